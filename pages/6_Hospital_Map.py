"""Hospital map: a note's symptoms → department → the nearest institutions offering it, on a national clustered map."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from services.hospitals import DEFAULT_KINDS, EMERGENCY, Bounds, Filters
from services.i18n import STRINGS, t
from ui.common import app, sidebar

st.set_page_config(page_title="NoteLens · Hospital map", page_icon="🗺️", layout="wide")
L = sidebar()
a = app()
hs = a.hospitals
ss = st.session_state

st.title(t("map_title", L))
st.caption(t("map_intro", L))

# -- where the point comes from: a note (Review's "find care"), a typed district, or a click on the map ----------------
notes = [n for n in a.store.list_notes(with_text=False) if n.status.value == "done"]
by_id = {n.id: n for n in notes}
if ss.get("map_note") in by_id:  # sent here from Review
    ss["map_note_pick"] = ss.pop("map_note")
c1, c2, c3, c4 = st.columns([4, 4, 1, 2])
note_id = c1.selectbox(
    t("map_note", L), [""] + list(by_id), key="map_note_pick",
    format_func=lambda i: t("map_no_note", L) if not i else
    f"{by_id[i].fields.visit_date or '—'} · {by_id[i].filename} · {by_id[i].fields.department or '—'}")
place = c2.text_input(t("map_place", L), key="map_place")
c3.write("")
c3.write("")
if c3.button(t("map_place_go", L), key="map_place_go") and place.strip():
    found = hs.locate(place)
    if found is None:
        st.warning(t("map_place_unknown", L, text=place.strip()))
    else:
        ss["map_point"] = (found.lat, found.lon, found.label)
        ss["map_center"], ss["map_zoom"] = [found.lat, found.lon], 13
limit = int(c4.number_input(t("map_limit", L), min_value=1, max_value=50, value=10, key="map_limit"))

guidance = hs.guidance_for_note(note_id) if note_id else None
if note_id and ss.get("map_note_applied") != note_id:  # a newly chosen note sets the department once
    ss["map_note_applied"] = note_id
    ss["map_dept"] = guidance.department if guidance and guidance.department else ""

# -- filters ------------------------------------------------------------------------------------------------------------
kinds = hs.kinds()
depts = ["", EMERGENCY] + hs.departments()
if ss.get("map_dept") not in depts:
    ss["map_dept"] = ""
with st.sidebar:
    st.subheader(t("map_filters", L))
    pick_kinds = st.multiselect(t("map_kinds", L), kinds, default=[k for k in kinds if k in DEFAULT_KINDS], key="map_kinds",
                                format_func=lambda k: t(f"map_kind_{k}", L) if f"map_kind_{k}" in STRINGS else k)
    dept = st.selectbox(t("map_department", L), depts, key="map_dept",
                        format_func=lambda d: t("map_any", L) if not d else t("map_er_dept", L) if d == EMERGENCY else d)
    er_only = st.checkbox(t("map_er_only", L), key="map_er")
    name = st.text_input(t("map_name", L), key="map_name")
    sido = st.selectbox(t("map_sido", L), [""] + hs.sidos(), key="map_sido",
                        format_func=lambda s: s or t("map_any", L))
    sigungu = st.selectbox(t("map_sigungu", L), [""] + (hs.sigungus(sido) if sido else []), key="map_sigungu",
                           format_func=lambda s: s or t("map_any", L))
    density = st.checkbox(t("map_density_layer", L), key="map_density")
filters = Filters(kinds=tuple(pick_kinds), department=dept, er_only=er_only, name=name, sido=sido, sigungu=sigungu)

# -- guidance for the chosen note ---------------------------------------------------------------------------------------
if guidance is not None:
    st.subheader(t("map_guidance", L))
    for flag in guidance.emergency:
        st.error(t("map_emergency", L, message=flag.message_en if L == "en" else flag.message_ko),
                 icon=":material/emergency:")

    def why(r):  # type: ignore[no-untyped-def]
        if r.via == "table":
            return t("map_why_table", L, term=r.term, sub=r.subspecialty or r.department, w=r.weight)
        if r.via == "statistics":
            return t("map_why_stats", L, term=r.term, code=r.code, dept=r.department, share=r.share)
        return t("map_why_note", L, term=r.term)

    if guidance.departments:
        st.dataframe(pd.DataFrame([{t("map_col_dept", L): d.department, t("map_col_score", L): round(d.score, 2),
                                    t("map_col_why", L): " · ".join(why(r) for r in d.reasons)}
                                   for d in guidance.departments[:5]]), hide_index=True, width="stretch", key="map_why")
    elif not guidance.emergency:
        st.info(t("map_guidance_none", L))
    notes_line = [t("map_used_terms", L, terms=", ".join(guidance.used) or "—")]
    if guidance.left_out:
        notes_line.append(t("map_left_out", L, terms=", ".join(f"{term} ({how})" for term, how in guidance.left_out)))
    if guidance.unmatched:
        notes_line.append(t("map_unmatched", L, terms=", ".join(guidance.unmatched)))
    st.text(" · ".join(notes_line))  # normalized terms only (never the note's text), as plain text
    if guidance.department:
        shown = t("map_er_dept", L) if guidance.department == EMERGENCY else guidance.department
        st.caption(t("map_dept_applied", L, dept=shown))

labels = {"er": t("map_er", L), "departments": t("map_departments", L), "inferred": t("map_inferred", L),
          "zoom": t("map_zoom_for_details", L), "here": t("map_here", L), "institutions": t("map_col_count", L)}


@st.fragment
def map_panel() -> None:
    """The map and the nearest list rerun alone when the map is panned or clicked."""
    state = ss.get("hospital_map") or {}
    clicked = state.get("last_clicked")
    if clicked and clicked != ss.get("map_click_seen"):
        ss["map_click_seen"] = clicked
        ss["map_point"] = (float(clicked["lat"]), float(clicked["lng"]),
                           t("map_clicked", L, lat=float(clicked["lat"]), lon=float(clicked["lng"])))
    point = ss.get("map_point")
    view = hs.map_view(Bounds.from_leaflet(state.get("bounds")), filters, (point[0], point[1]) if point else None,
                       limit, labels, density=density)
    n = len(view.markers.points)
    st.caption(t("map_in_view", L, n=n) if view.markers.detailed else t("map_in_view_compact", L, n=n))
    st_folium(view.map, key="hospital_map", height=640, use_container_width=True,
              returned_objects=["bounds", "last_clicked"], feature_group_to_add=view.layers,
              center=ss.get("map_center"), zoom=ss.get("map_zoom"))
    if not point:
        st.info(t("map_pick_hint", L))
        return
    st.text(t("map_point", L, label=point[2]))
    dept_label = t("map_nearest_dept", L, dept=t("map_er_dept", L) if dept == EMERGENCY else dept) if dept else ""
    st.subheader(t("map_nearest_title", L, n=len(view.nearby), dept=dept_label))
    if not view.nearby:
        st.warning(t("map_none_found", L))
        return
    st.dataframe(pd.DataFrame([{
        t("map_col_rank", L): i, t("map_col_name", L): x.institution.name, t("map_col_kind", L): x.institution.kind,
        t("map_col_km", L): round(x.km, 2), t("map_col_er", L): "✓" if x.institution.er else "",
        t("map_col_tel", L): x.institution.tel, t("map_col_addr", L): x.institution.addr,
        t("map_col_depts", L): ", ".join(f"{d} {c}" if c else d for d, c in x.institution.departments)
        + (f" ({t('map_inferred', L)})" if x.institution.dept_inferred else ""),
    } for i, x in enumerate(view.nearby, start=1)]), hide_index=True, width="stretch", key="map_nearest")


map_panel()

with st.expander(t("map_managers", L)):
    m1, m2 = st.columns(2)
    m1.caption(t("map_note_depts", L))
    m1.dataframe(pd.DataFrame(hs.note_departments(), columns=[t("map_col_dept", L), t("map_col_notes", L),
                                                              t("map_col_offering", L)]),
                 hide_index=True, width="stretch", key="map_note_depts")
    m2.caption(t("map_density_title", L))
    m2.dataframe(pd.DataFrame([(f"{r.sido} {r.sigungu}", r.count) for r in hs.density(filters)],
                              columns=[t("map_col_region", L), t("map_col_count", L)]),
                 hide_index=True, width="stretch", key="map_density_table")

with st.expander(t("map_import", L)):
    st.caption(t("map_import_help", L))
    files = st.file_uploader(t("map_import_files", L), type=["csv", "xlsx"], accept_multiple_files=True,
                             key="map_import_files")
    i1, i2 = st.columns(2)
    if i1.button(t("map_import_go", L), key="map_import_go", disabled=not files):
        try:
            report = hs.import_files((f.name, f.getvalue()) for f in files or [])
        except ValueError as err:
            st.error(str(err))
        else:
            st.success(t("map_imported", L, hospitals=report.hospitals, pharmacies=report.pharmacies,
                         from_file=report.departments_from_file, inferred=report.departments_inferred))
    if i2.button(t("map_reset", L), key="map_reset"):
        hs.reset_to_shipped()
    info = hs.info()
    st.caption(t("map_data_source", L, source=info.get("source", "—"), n=int(info.get("institutions", 0))))
