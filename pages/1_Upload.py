"""Upload: several notes at once, per-file progress and errors, links to the result."""

import time

import streamlit as st

from services.domain import NoteStatus
from services.i18n import t
from ui.common import app, sidebar

st.set_page_config(page_title="NoteLens · Upload", page_icon="📤", layout="wide")
L = sidebar()
a = app()

st.title(t("upload_title", L))
st.caption(t("upload_help", L))
st.caption(t("rec_upload_help", L))

# The uploader's own limit (and the "…MB per file" it shows) is the note or recording limit, whichever is larger,
# not Streamlit's 50 MB default; each file is then held to its own kind's limit.
limit = max(a.settings.max_note_bytes, a.settings.max_audio_bytes)
files = st.file_uploader(t("upload_files", L), accept_multiple_files=True, key="upload_files",
                         max_upload_size=max(1, -(-limit // (1024 * 1024))))
recorded = st.audio_input(t("rec_record", L), key="rec_audio_input")
if st.button(t("process", L), key="process", type="primary", disabled=not files and recorded is None):
    results = []
    bar = st.progress(0.0)
    # A recording made in the browser goes with the files: a WAV, transcribed like an uploaded one.
    batch = [(f.name, f.getvalue()) for f in files or []]
    if recorded is not None:
        batch.append((f"recording-{time.strftime('%Y%m%d-%H%M%S')}.wav", recorded.getvalue()))
    for i, (name, data) in enumerate(batch):
        def step(p: float, i: int = i, name: str = name) -> None:  # a recording's progress, segment by segment
            bar.progress(min(1.0, (i + p) / len(batch)), text=t("rec_transcribing", L, file=name))

        outcome = a.notes.ingest(name, data, progress=step)
        results.append({
            "file": name,
            "note_id": outcome.note.id,
            "state": "failed" if outcome.error else ("dup" if outcome.duplicate else "ok"),
            "code": outcome.error.code.value if outcome.error else "",
            "message": outcome.error.message if outcome.error else "",
        })
        bar.progress((i + 1) / len(batch), text=name)
    st.session_state["upload_results"] = results

for i, r in enumerate(st.session_state.get("upload_results", [])):
    with st.container(border=True):
        cols = st.columns([4, 2, 2])
        cols[0].text(r["file"])  # file names are user input: plain text, not markdown
        if r["state"] == "failed":
            cols[1].error(t("result_failed", L))
            st.error(f"{r['code']}: {t('err_' + r['code'], L)} {r['message']}")
        else:
            cols[1].success(t("result_dup", L) if r["state"] == "dup" else t("result_ok", L))
            if cols[2].button(t("open_review", L), key=f"open_{i}"):
                st.session_state["review_note"] = r["note_id"]
                st.switch_page("pages/2_Review.py")

failed = a.store.list_notes(status=NoteStatus.FAILED, with_text=False)
if failed:
    st.subheader(t("failed_notes", L))
    for n in failed:
        cols = st.columns([4, 4, 2, 1])
        cols[0].text(n.filename)
        cols[1].caption(f"{n.error_code}: {t(f'err_{n.error_code}', L)} {n.error_message}")
        enc = cols[2].selectbox(t("retry_encoding", L), ["", "utf-8", "cp949", "euc-kr", "utf-16"],
                                format_func=lambda v: v or t("auto", L), key=f"enc_{n.id}", label_visibility="collapsed")
        if cols[3].button(t("retry", L), key=f"retry_{n.id}"):
            out = a.notes.retry(n.id, encoding=enc or None)
            if out.error:
                st.error(f"{out.error.code.value}: {t('err_' + out.error.code.value, L)} {out.error.message}")
            else:
                st.rerun()
