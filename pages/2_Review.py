"""Review: the source with highlighted entities beside an editable entity table."""

import json

import pandas as pd
import streamlit as st

from services.i18n import t
from services.render import highlight, legend
from services.store import ReviewConflict
from ui.common import app, category_labels, sidebar
from ui.recording import recording_panel

st.set_page_config(page_title="NoteLens · Review", page_icon="🔎", layout="wide")
L = sidebar()
a = app()
labels = category_labels(L)

st.title(t("review_title", L))
notes = a.store.list_notes(with_text=False)
if not notes:
    st.info(t("no_notes", L))
    st.stop()

ids = [n.id for n in notes]
by_id = {n.id: n for n in notes}
# Explicit navigation (Upload's "open") wins; a ?note= link only chooses the first note shown,
# so picking another note in the box is not undone on the next rerun.
nav = st.session_state.pop("review_note", None)
if nav in by_id:
    st.session_state["review_pick"] = nav
elif "review_pick" not in st.session_state and st.query_params.get("note") in by_id:
    st.session_state["review_pick"] = st.query_params.get("note")
pick = st.selectbox(
    t("pick_note", L), ids, key="review_pick",
    format_func=lambda i: f"{by_id[i].fields.visit_date or '—'} · {by_id[i].filename} · {by_id[i].status.value}",
)
view = a.notes.view(pick)
note = view.note
st.query_params["note"] = note.id

if note.status.value == "failed":
    st.error(f"{t('note_failed', L)} — {note.error_code}: {t(f'err_{note.error_code}', L)} {note.error_message}")
    st.text(note.filename)
    st.stop()

f = view.fields
meta = st.columns(5)
meta[0].metric(t("visit_date", L), f.visit_date or "—")
meta[1].metric(t("age", L), f.age if f.age is not None else "—")
meta[2].metric(t("sex", L), f.sex or "—")
meta[3].metric(t("department", L), f.department or "—")
meta[4].metric(t("entities", L), len(view.entities))
if f.summary:
    st.text(f"{t('summary', L)}: {f.summary}")  # plain text: note content is never markdown
if view.extraction is not None:
    x = view.extraction
    made_by = [t("made_by", L, engine=x.engine, version=x.version)]
    made_by += [m for m in (x.model_id, x.prompt_version) if m]
    if x.usage.get("input_tokens"):
        made_by.append(t("tokens_used", L, tokens_in=int(x.usage["input_tokens"]),
                         tokens_out=int(x.usage.get("output_tokens", 0))))
    if x.cached:
        made_by.append(t("from_cache", L))
    ungrounded = sum(not e.grounded for e in view.entities)
    if ungrounded:
        made_by.append(t("ungrounded_count", L, n=ungrounded))
    st.caption(" · ".join(made_by))
if st.button(t("map_find_care", L), key="find_care", icon=":material/map:"):  # issue 11: symptoms → department → map
    st.session_state["map_note"] = note.id
    st.switch_page("pages/6_Hospital_Map.py")

def section_label(name: str | None) -> str:
    return t(f"sec_{name}", L) if name else t("sec_none", L)


left, right = st.columns([5, 6])
with left:
    rec = a.recordings.view(note.id)
    if rec is not None:  # a recording: the player and its timed segments beside the entities
        recording_panel(a, view, rec, labels, L)
    st.subheader(t("source_text", L))
    st.html(legend(labels))
    st.caption(f"{t('negated_legend', L)} · {t('uncertain_legend', L)} · {t('historical_legend', L)}")
    st.html(highlight(note.text or "", view.entities, labels))

with right:
    st.subheader(t("entity_table", L))
    entities = view.entities
    sections = sorted({e.section or "" for e in entities})
    assertions = ["present", "negated", "uncertain", "historical", "family"]
    f1, f2 = st.columns(2)
    pick_sections = f1.multiselect(t("filter_sections", L), sections, key="filter_sections",
                                   format_func=lambda s: section_label(s or None))
    pick_assertions = f2.multiselect(t("filter_assertions", L), assertions, key="filter_assertions",
                                     format_func=lambda a: t(f"assert_{a}", L))

    def shown(e) -> bool:  # type: ignore[no-untyped-def]
        return (not pick_sections or (e.section or "") in pick_sections) and (
            not pick_assertions or e.assertion in pick_assertions)

    # The table shows category and action names in the chosen language; codes go back to the service on save.
    actions = {"accept": t("action_accept", L), "reject": t("action_reject", L)}
    action_code = {v: k for k, v in actions.items()}
    category_code = {v: k for k, v in labels.items()}

    def row(e) -> dict:  # type: ignore[no-untyped-def]
        return {
            "status": actions["accept"], "category": labels.get(e.category.value, e.category.value), "text": e.text,
            "assertion": t(f"assert_{e.assertion}", L), "negated": e.negated, "uncertain": e.uncertain,
            "historical": e.historical, "family": e.family, "section": section_label(e.section),
            "normalized": e.normalized or "", "code": e.code or "",
            "attributes": json.dumps(e.attributes, ensure_ascii=False) if e.attributes else "",
            "begin": e.begin, "end": e.end, "grounded": e.grounded,
            "orig_category": e.category.value, "orig_begin": e.begin, "orig_end": e.end, "orig_section": e.section,
        }

    visible = [e for e in entities if shown(e)]
    hidden = [e for e in entities if not shown(e)]
    columns = ["status", "category", "text", "assertion", "negated", "uncertain", "historical", "family", "section",
               "normalized", "code", "attributes", "begin", "end", "grounded", "orig_category", "orig_begin",
               "orig_end", "orig_section"]
    df = pd.DataFrame([row(e) for e in visible], columns=columns)
    edited = st.data_editor(
        df, key="entity_editor", num_rows="dynamic", hide_index=True, height=460,
        width="stretch",
        column_config={
            "status": st.column_config.SelectboxColumn(t("col_status", L), options=list(actions.values()),
                                                       required=True, width="small"),
            "category": st.column_config.SelectboxColumn(t("col_category", L), options=list(labels.values()),
                                                         required=True),
            "text": st.column_config.TextColumn(t("col_text", L)),
            "assertion": st.column_config.TextColumn(t("col_assertion", L), disabled=True),
            "negated": st.column_config.CheckboxColumn(t("assert_negated", L)),
            "uncertain": st.column_config.CheckboxColumn(t("assert_uncertain", L)),
            "historical": st.column_config.CheckboxColumn(t("assert_historical", L)),
            "family": st.column_config.CheckboxColumn(t("assert_family", L)),
            "section": st.column_config.TextColumn(t("col_section", L), disabled=True),
            "normalized": st.column_config.TextColumn(t("col_normalized", L)),
            "code": st.column_config.TextColumn(t("col_code", L)),
            "attributes": st.column_config.TextColumn(t("col_attributes", L)),
            "begin": st.column_config.NumberColumn(disabled=True),
            "end": st.column_config.NumberColumn(disabled=True),
            "grounded": st.column_config.CheckboxColumn(t("ungrounded", L), disabled=True),
            "orig_category": None, "orig_begin": None, "orig_end": None, "orig_section": None,
        },
    )
    reviewer = st.text_input(t("reviewer", L), key="reviewer")
    # The review version this reviewer started from: saving over someone else's later save is refused (issue 13).
    base_key = f"review_base:{note.id}"
    if base_key not in st.session_state:
        st.session_state[base_key] = view.review.version if view.review else 0
    if st.session_state.get("review_conflict") == note.id:
        st.error(t("review_conflict", L, found=view.review.version if view.review else 0))
        if st.button(t("review_reload", L), key="review_reload"):
            for k in ("review_conflict", base_key, "entity_editor"):
                st.session_state.pop(k, None)
            st.rerun()
    if st.button(t("save_review", L), key="save_review", type="primary"):
        if not reviewer.strip():
            st.warning(t("reviewer_required", L))
        else:
            records = edited.astype(object).where(pd.notna(edited), None).to_dict("records")
            for r in records:  # the section column shows a label; keep the machine's section name
                r["section"] = r.pop("orig_section", None)
                r["status"] = action_code.get(r.get("status") or "", r.get("status"))
                r["category"] = category_code.get(r.get("category") or "", r.get("category"))
            # Rows hidden by a filter are kept exactly as they were.
            records += [dict(row(e), section=e.section, status="accept", category=e.category.value) for e in hidden]
            try:
                review = a.notes.save_review(note.id, reviewer, records, base_version=st.session_state[base_key])
            except ReviewConflict:
                st.session_state["review_conflict"] = note.id
                st.rerun()
            # Shown after the rerun that reloads the table with the saved version.
            st.session_state["flash"] = t("saved_review", L, version=review.version)
            for k in ("entity_editor", base_key, "review_conflict"):
                st.session_state.pop(k, None)
            st.rerun()
    if "flash" in st.session_state:
        st.success(st.session_state.pop("flash"))

    d1, d2 = st.columns(2)
    d1.download_button(t("download_json", L), a.notes.export_json(note.id, view), file_name=f"{note.id}.json",
                       mime="application/json", key="dl_json")
    d2.download_button(t("download_csv", L), a.notes.export_csv(note.id, view), file_name=f"{note.id}.csv",
                       mime="text/csv", key="dl_csv")

with st.expander(t("versions", L)):
    hist = [{"kind": t("extraction_v", L), "version": x.version, "by": " · ".join(filter(None, (x.engine, x.prompt_version))),
             "at": x.created_at, "entities": len(x.entities), "cached": x.cached} for x in view.extractions]
    hist += [{"kind": t("review_v", L), "version": r.version, "by": r.reviewer, "at": r.created_at,
              "entities": len(r.entities), "changes": json.dumps(r.changes.get("counts", {}))} for r in view.reviews]
    st.dataframe(pd.DataFrame(hist), hide_index=True, width="stretch")
