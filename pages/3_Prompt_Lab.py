"""Prompt Lab: edit a prompt version live, run it on a note with the answer streaming in, compare it with a
baseline, score versions on a gold set beside the local engine, save a new version, turn reviews into gold."""

import pandas as pd
import streamlit as st

from services.i18n import t
from services.promptlab import DRAFT, compare, diff
from services.render import highlight, legend
from ui.common import app, category_labels, sidebar

st.set_page_config(page_title="NoteLens · Prompt Lab", page_icon="🧪", layout="wide")
L = sidebar()
a = app()
lab = a.promptlab
labels = category_labels(L)
ss = st.session_state

st.title(t("pl_title", L))
st.caption(t("pl_intro", L))
if not a.settings.cloud_mask_phi:
    st.warning(t("pl_phi_off", L))

tasks = lab.tasks()
if not tasks:
    st.info(t("pl_no_prompts", L))
    st.stop()

c1, c2, c3, c4 = st.columns([2, 2, 2, 4])
task = c1.selectbox(t("pl_task", L), tasks, key="pl_task")
versions = lab.versions(task)
if "pl_version_next" in ss:  # a version just saved becomes the one shown (set before its widget exists)
    ss["pl_version"] = ss.pop("pl_version_next")
if ss.get("pl_version") not in versions:
    ss["pl_version"] = versions[-1]
version = c2.selectbox(t("pl_version", L), versions, key="pl_version")
kind = c3.selectbox(t("pl_engine", L), ["claude", "llm"], key="pl_engine",
                    format_func=lambda k: t(f"pl_engine_{k}", L))
default_model = a.settings.claude_model_id if kind == "claude" else a.settings.llm_model
model = c4.text_input(t("pl_model", L), value=default_model, key=f"pl_model_{kind}")

saved = lab.source(task, version)
# The editor follows the chosen version; an edit stays until another version is picked.
if ss.get("pl_loaded") != (task, version):
    ss["pl_loaded"] = (task, version)
    ss["pl_editor"] = saved
    ss.pop("pl_result", None)

edit_tab, eval_tab, gold_tab = st.tabs([t("pl_tab_edit", L), t("pl_tab_eval", L), t("pl_tab_gold", L)])

with edit_tab:
    left, right = st.columns([1, 1])
    with left:
        edited = st.text_area(t("pl_editor", L), key="pl_editor", height=420)
        changed = edited != saved
        if changed:
            st.caption(t("pl_draft_note", L, version=version))
            with st.expander(t("pl_diff", L), expanded=True):
                st.code(diff(saved, edited, f"{task}/{version}.md", t("pl_edited", L)), language="diff")
            with st.form("pl_save_form", border=True):
                why = st.text_input(t("pl_why", L), key="pl_why")
                if st.form_submit_button(t("pl_save", L), type="primary", key="pl_save"):
                    if not why.strip():
                        st.warning(t("pl_why_required", L))
                    else:
                        new = lab.save(task, edited, why)
                        ss["pl_version_next"] = new
                        ss["pl_flash"] = t("pl_saved", L, version=new)
                        st.rerun()
        if "pl_flash" in ss:
            st.success(ss.pop("pl_flash"))
        with st.expander(t("pl_changelog", L)):
            st.text(lab.changelog(task))

    with right:
        notes = [n for n in a.store.list_notes(with_text=False) if n.status.value == "done"]
        if not notes:
            st.info(t("no_notes", L))
        else:
            by_id = {n.id: n for n in notes}
            note_id = st.selectbox(t("pick_note", L), list(by_id), key="pl_note",
                                   format_func=lambda i: f"{by_id[i].filename} · {by_id[i].fields.department or '—'}")
            baselines = ["local", *[v for v in versions if v != version]]
            base = st.selectbox(t("pl_baseline", L), baselines, key="pl_baseline",
                                format_func=lambda b: t("pl_local", L) if b == "local" else f"{task}@{b}")
            if st.button(t("pl_run", L), key="pl_run", type="primary"):
                note = a.store.get_note(note_id)
                text = note.text if note and note.text else ""
                prompt = lab.prompt(task, version, edited)
                status = st.empty()
                status.caption(t("pl_streaming", L))
                box = st.empty()
                parts: list[str] = []

                def on_delta(piece: str) -> None:
                    parts.append(piece)
                    box.code("".join(parts), language="json", wrap_lines=True)

                run = lab.run(kind, prompt, model, text, on_delta)
                status.caption(t("pl_answer", L) if parts else "")
                base_run = lab.baseline(text, "local" if base == "local" else kind,
                                        None if base == "local" else lab.prompt(task, base), model)
                ss["pl_result"] = {"note": note_id, "text": text, "run": run, "base": base_run, "base_label": base,
                                   "prompt": prompt.ref}

result = ss.get("pl_result")
if result is not None:
    with edit_tab:
        run = result["run"]
        st.divider()
        if run.error:
            st.error(run.error)
        else:
            r = run.result
            st.subheader(t("pl_result", L, prompt=result["prompt"]))
            if r.cached:
                st.info(t("pl_cached", L))
            m = st.columns(6)
            m[0].metric(t("entities", L), len([e for e in r.entities if e.category.value != "phi"]))
            m[1].metric(t("pl_ungrounded", L), len(run.ungrounded))
            m[2].metric(t("pl_tokens_in", L), int(r.usage.get("input_tokens", 0)))
            m[3].metric(t("pl_tokens_out", L), int(r.usage.get("output_tokens", 0)))
            m[4].metric(t("pl_cost", L), f"${r.usage.get('cost_usd', 0.0):.4f}")
            m[5].metric(t("pl_latency", L), f"{r.usage.get('latency_ms', 0) / 1000:.1f} s")
            src, table = st.columns([5, 6])
            with src:
                st.html(legend(labels))
                st.html(highlight(result["text"], r.entities, labels))
            with table:
                rows = [{t("col_category", L): labels.get(e.category.value, e.category.value), t("col_text", L): e.text,
                         t("col_assertion", L): t(f"assert_{e.assertion}", L), t("pl_grounded", L): e.grounded,
                         t("col_normalized", L): e.normalized or ""} for e in r.entities if e.category.value != "phi"]
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=300, key="pl_entities")
                if run.ungrounded:
                    st.warning(t("pl_ungrounded_list", L, items=", ".join(e.text for e in run.ungrounded)))
                base_run = result["base"]
                base_name = t("pl_local", L) if result["base_label"] == "local" else f"{task}@{result['base_label']}"
                st.markdown(f"**{t('pl_vs_baseline', L, base=base_name)}**")
                if base_run.error or base_run.result is None:
                    st.error(base_run.error or "—")
                else:
                    changes = compare(base_run.result.entities, r.entities)
                    kinds = {k: sum(c.kind == k for c in changes) for k in ("added", "removed", "changed")}
                    st.caption(" · ".join(f"{t('pl_' + k, L)} {n}" for k, n in kinds.items()))
                    st.dataframe(pd.DataFrame(
                        [{t("pl_change", L): t("pl_" + c.kind, L), t("col_category", L): labels.get(c.category, c.category),
                          t("col_text", L): c.text,
                          t("pl_detail", L): f"{t('assert_' + c.before, L)} → {t('assert_' + c.after, L)}" if c.before else ""}
                         for c in changes],
                        columns=[t("pl_change", L), t("col_category", L), t("col_text", L), t("pl_detail", L)]),
                        hide_index=True, width="stretch", key="pl_changes")

with eval_tab:
    sets = lab.gold_sets()
    runnable = [g for g in sets if not g.locked and g.size]
    if not runnable:
        st.info(t("pl_no_gold", L))
    else:
        by_name = {g.name: g for g in runnable}
        e1, e2, e3 = st.columns([2, 3, 1])
        gold_name = e1.selectbox(t("pl_gold_set", L), list(by_name), key="pl_gold",
                                 format_func=lambda n: f"{n} ({by_name[n].size})")
        choices = [*versions, *([DRAFT] if edited != saved else [])]
        picked = e2.multiselect(t("pl_eval_versions", L), choices, default=[version], max_selections=2,
                                key="pl_eval_versions")
        workers = e3.number_input(t("pl_workers", L), 1, 8, 4, key="pl_workers")
        locked = [g.name for g in sets if g.locked]
        if locked:
            st.caption(t("pl_locked", L, names=", ".join(locked)))
        if st.button(t("pl_evaluate", L), key="pl_evaluate", type="primary", disabled=not picked):
            bar = st.progress(0.0, text=t("pl_evaluating", L))
            candidates = [(f"{task}@{v}", kind, lab.prompt(task, version, edited) if v == DRAFT else lab.prompt(task, v),
                           model) for v in picked]
            runs = lab.evaluate(by_name[gold_name], candidates, int(workers),
                                lambda frac, label: bar.progress(min(1.0, frac), text=label))
            bar.empty()
            ss["pl_eval"] = runs
        runs = ss.get("pl_eval")
        if runs:
            summary = [r.summary() for r in runs]
            cats = list(summary[0]["per_category"])
            rows = []
            for s in summary:
                row = {t("pl_run_label", L): s["label"], "micro P": s["micro_precision"], "micro R": s["micro_recall"],
                       "micro F1": s["micro_f1"]}
                row.update({f"{labels.get(c, c)} F1": s["per_category"][c]["f1"] for c in cats})
                row.update({t("pl_negation", L): s["negation_accuracy"], t("pl_phi_recall", L): s.get("phi_recall", 0.0),
                            t("pl_grounding", L): s["grounding_rate"], t("pl_tokens_in", L): s["input_tokens"],
                            t("pl_tokens_out", L): s["output_tokens"], t("pl_cost", L): s["cost_usd"],
                            t("pl_latency", L): s["latency_ms"] / 1000, t("pl_cached_n", L): s["cached"],
                            t("pl_failures", L): s["failures"]})
                rows.append(row)
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="pl_eval_table",
                         column_config={k: st.column_config.NumberColumn(format="%.3f") for k in rows[0]
                                        if isinstance(rows[0][k], float)})
            for r in runs:
                for file, message in r.failures.items():
                    st.error(f"{r.label} · {file}: {message}")
            files = sorted({e["file"] for r in runs for e in r.scores.errors})
            if files:
                drill = st.selectbox(t("pl_drill", L), files, key="pl_drill")
                cols = st.columns(len(runs))
                for col, r in zip(cols, runs, strict=True):
                    col.markdown(f"**{r.label}**")
                    errs = [e for e in r.scores.errors if e["file"] == drill]
                    col.dataframe(pd.DataFrame(
                        [{t("pl_error_kind", L): t(f"pl_err_{e['kind']}", L), t("col_category", L):
                          labels.get(e["category"], e["category"]), t("col_text", L): e["text"]} for e in errs],
                        columns=[t("pl_error_kind", L), t("col_category", L), t("col_text", L)]),
                        hide_index=True, width="stretch", key=f"pl_drill_{r.label}")

with gold_tab:
    st.subheader(t("pl_gold_sets", L))
    sets = lab.gold_sets()
    st.dataframe(pd.DataFrame([{t("pl_gold_set", L): g.name, t("pl_size", L): g.size,
                                t("pl_kind", L): t("pl_locked_kind", L) if g.locked else (
                                    t("pl_user_kind", L) if g.user else t("pl_committed_kind", L))} for g in sets]),
                 hide_index=True, width="stretch", key="pl_sets")
    st.subheader(t("pl_export", L))
    st.caption(t("pl_export_help", L))
    reviewed = lab.reviewed_notes()
    if not reviewed:
        st.info(t("pl_no_reviews", L))
    else:
        rev = {n.id: n for n in reviewed}
        g1, g2 = st.columns([3, 2])
        pick = g1.selectbox(t("pick_note", L), list(rev), key="pl_export_note", format_func=lambda i: rev[i].filename)
        target = g2.text_input(t("pl_export_set", L), value="reviewed", key="pl_export_set")
        if st.button(t("pl_export_button", L), key="pl_export_button"):
            gs = lab.export_review(pick, target)
            ss["pl_export_flash"] = t("pl_exported", L, name=gs.name, size=gs.size)
            st.rerun()  # the list above and the evaluation tab now include the set
    if "pl_export_flash" in ss:
        st.success(ss.pop("pl_export_flash"))
