"""Review's recording panel: the audio player, the timed segments, playing from a chosen segment or
entity, naming the speakers and correcting the transcript. Transcript text is only ever shown through
widgets that render plain text (tables, select options), never as HTML or markdown."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from services.i18n import t
from services.notes import NoteView
from services.recordings import RecordingView
from services.wiring import App


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def recording_panel(a: App, view: NoteView, rec: RecordingView, labels: dict[str, str], lang: str) -> None:
    note_id = view.note.id
    tr = rec.transcript
    st.subheader(t("rec_title", lang))
    by = f"{tr.engine}{' · ' + tr.model if tr.model else ''}"
    st.caption(t("rec_made_by", lang, engine=by, duration=clock(tr.duration), version=tr.version, n=len(rec.segments)))
    if "rec_flash" in st.session_state:  # after a saved correction (the expander is closed again)
        st.success(st.session_state.pop("rec_flash"))

    # Play from: the start, a segment, or where an entity was said.
    options: list[tuple[str, float]] = [(t("rec_from_start", lang), 0.0)]
    for seg in rec.segments:
        who = rec.speaker_name(seg.speaker)
        options.append((f"{clock(seg.start)} · {t('rec_segment', lang)}{' · ' + who if who else ''} · {_short(seg.text)}",
                        seg.start))
    for e in view.entities:
        at = rec.time_of(e)
        if at is not None:
            options.append((f"{clock(at)} · {labels.get(e.category.value, e.category.value)} · {_short(e.text, 30)}", at))
    choice = st.selectbox(t("rec_play_from", lang), range(len(options)), key=f"rec_play_from_{note_id}",
                          format_func=lambda i: options[i][0])
    audio = a.recordings.audio(note_id)
    if audio is None:
        st.warning(t("rec_no_audio", lang))
    else:
        data, mime = audio
        st.audio(data, format=mime, start_time=options[choice][1], autoplay=choice != 0)

    table = pd.DataFrame(
        [{"time": clock(s.start), "speaker": rec.speaker_name(s.speaker), "text": s.text} for s in rec.segments],
        columns=["time", "speaker", "text"],
    )
    st.dataframe(table, hide_index=True, width="stretch", key=f"rec_segments_{note_id}", column_config={
        "time": st.column_config.TextColumn(t("rec_col_time", lang), width="small"),
        "speaker": st.column_config.TextColumn(t("rec_col_speaker", lang), width="small"),
        "text": st.column_config.TextColumn(t("rec_col_text", lang)),
    })

    with st.expander(t("rec_correct", lang)):
        _correction(a, note_id, rec, lang)


def _correction(a: App, note_id: str, rec: RecordingView, lang: str) -> None:
    names: dict[str, str] = {}
    found = rec.labels()
    if found:
        st.caption(t("rec_speakers_help", lang))
        cols = st.columns(min(len(found), 4))
        for i, label in enumerate(found):
            names[label] = cols[i % len(cols)].text_input(
                t("rec_speaker_name", lang, label=label), value=rec.speakers.get(label, ""),
                placeholder=t("rec_speaker_placeholder", lang), key=f"rec_name_{note_id}_{label}")
    df = pd.DataFrame([s.as_dict() for s in rec.segments], columns=["start", "end", "speaker", "text"])
    edited = st.data_editor(df, key=f"rec_editor_{note_id}", hide_index=True, width="stretch", num_rows="fixed",
                            column_config={
                                "start": st.column_config.NumberColumn(t("rec_col_time", lang), disabled=True,
                                                                       format="%.1f s", width="small"),
                                "end": st.column_config.NumberColumn(t("rec_col_end", lang), disabled=True,
                                                                     format="%.1f s", width="small"),
                                "speaker": st.column_config.TextColumn(t("rec_col_speaker", lang), width="small"),
                                "text": st.column_config.TextColumn(t("rec_col_text", lang), width="large"),
                            })
    author = st.text_input(t("rec_author", lang), key=f"rec_author_{note_id}")
    if st.button(t("rec_save", lang), key=f"rec_save_{note_id}"):
        if not author.strip():
            st.warning(t("rec_author_required", lang))
            return
        rows: list[dict[str, Any]] = edited.astype(object).where(pd.notna(edited), None).to_dict("records")
        try:
            outcome = a.recordings.correct(note_id, author, rows, names)
        except ValueError as err:
            st.error(str(err))
            return
        if outcome is not None and outcome.error is not None:
            st.error(f"{outcome.error.code.value}: {outcome.error.message}")
            return
        st.session_state["rec_flash"] = t("rec_saved" if outcome is not None else "rec_saved_names", lang)
        st.session_state.pop(f"rec_editor_{note_id}", None)
        st.rerun()
    versions = [{"version": v.version, "by": v.author or v.engine, "at": v.created_at, "segments": len(v.segments)}
                for v in rec.versions]
    st.caption(t("rec_versions", lang))
    st.dataframe(pd.DataFrame(versions), hide_index=True, width="stretch", key=f"rec_versions_{note_id}")
