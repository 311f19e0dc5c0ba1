"""The folium pieces of the hospital map: a base map that needs no CDN, the clustered institutions of the visible
bounds, the highlighted nearest institutions and the managers' density layer.

Leaflet 1.9.4 and Leaflet.markercluster 1.5.3 are vendored (``vendor/``, BSD-2 and MIT) and inlined into the map's
script and header, so the map renders offline (only the background tiles need the network). Every text that comes
from a data file (names, addresses, departments) is escaped with ``html.escape`` before it reaches a popup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster
from folium.template import Template

from services.hospitals.model import KINDS, Institution, Nearby

VENDOR = Path(__file__).resolve().parent / "vendor"
KOREA_CENTER = (35.95, 127.8)  # with zoom 7 and a 640 px map: the whole country, Jeju included
KOREA_ZOOM = 7
# Above this many markers in view the popups carry name and kind only (zoom in for phone, address, departments):
# the national view stays a few MB.
DETAIL_LIMIT = 1500
NAME_LIMIT = 30_000
KIND_COLORS = ("#8e44ad", "#c0392b", "#e67e22", "#7f8c8d", "#16a085", "#2980b9", "#27ae60", "#2ecc71", "#a0522d",
               "#d2691e", "#34495e", "#34495e", "#5d6d7e", "#5d6d7e", "#ff69b4", "#1abc9c")
_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}

_PIN_CSS = "".join(f".nl-k{i}{{background:{c}}}" for i, c in enumerate(KIND_COLORS)) + (
    ".nl-pin{border-radius:50%;border:2px solid #fff;box-shadow:0 0 2px #222}"
    ".nl-near{background:#d00;color:#fff;border:2px solid #fff;border-radius:50%;font:bold 12px/20px sans-serif;"
    "text-align:center;width:24px;height:24px;box-shadow:0 0 3px #000}"
    ".nl-here{background:#111;border:3px solid #ffeb3b;border-radius:50%;box-shadow:0 0 4px #000}"
    ".nl-pop b{font-size:13px}.nl-pop{font-size:12px;line-height:1.4;max-width:280px}")


@lru_cache(maxsize=1)
def vendor_js() -> str:
    return "\n".join((VENDOR / f).read_text(encoding="utf-8") for f in ("leaflet.js", "leaflet.markercluster.js"))


@lru_cache(maxsize=1)
def vendor_css() -> str:
    css = "\n".join((VENDOR / f).read_text(encoding="utf-8")
                    for f in ("leaflet.css", "MarkerCluster.css", "MarkerCluster.Default.css"))
    return css + _PIN_CSS


class OfflineMap(folium.Map):
    """A folium Map whose Leaflet and markercluster come inlined from ``vendor/`` instead of CDN links."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []
    _base = folium.Map._template
    _template = Template("""
{% macro header(this, kwargs) %}{{ this._base.module.header(this, kwargs) }}<style>{{ this.css }}</style>{% endmacro %}
{% macro html(this, kwargs) %}{{ this._base.module.html(this, kwargs) }}{% endmacro %}
{% macro script(this, kwargs) %}{{ this.js }}
{{ this._base.module.script(this, kwargs) }}{% endmacro %}
""")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.js = vendor_js()
        self.css = vendor_css()


class CompactMarkerCluster(FastMarkerCluster):
    """FastMarkerCluster whose rows are written as UTF-8 JSON (not \\uXXXX escapes) and need no CDN.

    A row is [lat, lon, kind index] with, when the view is small enough, the escaped name ([..., name]) or the whole
    escaped popup ([..., popup, 1]); the callback builds the rest from constants."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []
    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function(){
    {{ this.callback }}
    var data = {{ this.data_json }};
    var cluster = L.markerClusterGroup({{ this.options|tojavascript }});
    // One by one before the layer is on the map: queued, then clustered once (addLayers would check each
    // marker against the queue, quadratic in the number of markers).
    for (var i = 0; i < data.length; i++) { cluster.addLayer(callback(data[i])); }
    // One popup for the layer, filled on click: no popup object for each of tens of thousands of markers.
    cluster.on('click', function (e) {
        if (!e.layer || !e.layer.nlRow) { return; }
        L.popup({maxWidth: 300}).setLatLng(e.layer.getLatLng()).setContent(popup(e.layer.nlRow)).openOn(cluster._map);
    });
    cluster.addTo({{ this._parent.get_name() }});
    return cluster;
})();
{% endmacro %}""")

    def __init__(self, data_json: str, size: int, kind_names: Sequence[str], hint: str, **kwargs: Any) -> None:
        super().__init__([], callback="null", **kwargs)  # type: ignore[no-untyped-call]
        self.callback = _CALLBACK.replace("KINDS", script_json([e(k) for k in kind_names])).replace(
            "HINT", script_json(e(hint)))
        self.data_json = data_json  # a JSON array of rows, made safe for a <script> (script_json)
        self.size = size


# Every string in a row or a constant is escaped in Python (html.escape) before it gets here. Icons are shared
# per kind, and a marker keeps its row for the layer's single popup.
_CALLBACK = """var kinds = KINDS, hint = HINT, icons = {};
    var callback = function (row) {
        var icon = icons[row[2]] || (icons[row[2]] = L.divIcon({className: 'nl-pin nl-k' + row[2], iconSize: [12, 12]}));
        var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon});
        marker.nlRow = row;
        return marker;
    };
    var popup = function (row) {
        if (row.length > 4) { return row[3]; }
        var head = row.length > 3 ? '<b>' + row[3] + '</b><br>' : '';
        return "<div class='nl-pop'>" + head + kinds[row[2]] + '<br><i>' + hint + '</i></div>';
    };"""


def script_json(value: Any) -> str:
    """JSON safe to put inside a <script>: no '<', '>', '&' or line separators left raw."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def popup_html(inst: Institution, labels: dict[str, str], km: float | None = None) -> str:
    """Name, kind, emergency room, phone, address, departments with specialist counts — every data text escaped."""
    parts = [f"<div class='nl-pop'><b>{e(inst.name)}</b><br>{e(inst.kind)}"]
    if km is not None:
        parts.append(f" · {km:.1f} km")
    if inst.er:
        parts.append(f"<br>🚑 {e(labels.get('er', 'ER'))}{(' · ' + e(inst.er_note)) if inst.er_note else ''}")
    if inst.tel:
        parts.append(f"<br>☎ {e(inst.tel)}")
    if inst.addr:
        parts.append(f"<br>{e(inst.addr)}")
    if inst.departments:
        depts = ", ".join(f"{e(d)} {n}" if n else e(d) for d, n in inst.departments[:24])
        more = " …" if len(inst.departments) > 24 else ""
        inferred = f" ({e(labels.get('inferred', 'inferred'))})" if inst.dept_inferred else ""
        parts.append(f"<br><i>{e(labels.get('departments', 'Departments'))}{inferred}</i>: {depts}{more}")
    parts.append("</div>")
    return "".join(parts)


def kind_index(kind: str) -> int:
    return _KIND_INDEX.get(kind, len(KINDS) - 1)


def cluster_layer(points: Sequence[tuple[int, float, float, str, str]], details: dict[int, Institution] | None,
                  labels: dict[str, str], name: str = "institutions") -> folium.FeatureGroup:
    """The clustered institutions. Full popups when ``details`` holds them; names up to NAME_LIMIT markers in view;
    beyond that (the national view) kind only: single markers only show after zooming in, and by then the layer has
    been sent again for the smaller bounds."""
    with_names = len(points) <= NAME_LIMIT
    if details is None and not with_names:  # the national view: numbers only, written directly (80k rows)
        data = "[" + ",".join(f"[{lat:.4f},{lon:.4f},{kind_index(kind)}]" for _, lat, lon, _, kind in points) + "]"
    else:
        rows: list[list[Any]] = []
        for inst_id, lat, lon, inst_name, kind in points:
            row: list[Any] = [round(lat, 5), round(lon, 5), kind_index(kind)]
            if details and inst_id in details:
                row += [popup_html(details[inst_id], labels), 1]
            else:
                row.append(e(inst_name))
            rows.append(row)
        data = script_json(rows)
    group = folium.FeatureGroup(name=name)
    CompactMarkerCluster(data, len(points), KINDS, labels.get("zoom", ""),
                         options={"disableClusteringAtZoom": 16}).add_to(group)
    return group


class RowLayer(MacroElement):
    """Plain (unclustered) markers or circles drawn by a JS callback from JSON rows. Popups and tooltips get their
    (escaped) text as JSON strings: folium's own Popup/Tooltip put text inside a JS template literal and need jQuery."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function(){
    var draw = {{ this.callback }};
    var data = {{ this.data_json }};
    for (var i = 0; i < data.length; i++) { draw(data[i]).addTo({{ this._parent.get_name() }}); }
})();
{% endmacro %}""")

    def __init__(self, rows: Sequence[Sequence[Any]], callback: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "RowLayer"
        self.callback = callback
        self.data_json = script_json([list(r) for r in rows])


_NEAREST = """function (row) {
    var icon = row[2] === 0
        ? L.divIcon({className: 'nl-here', iconSize: [16, 16], iconAnchor: [8, 8]})
        : L.divIcon({className: '', html: "<div class='nl-near'>" + row[2] + '</div>', iconSize: [24, 24], iconAnchor: [12, 12]});
    var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon, zIndexOffset: 1000});
    marker.bindPopup(row[3], {maxWidth: 300});
    return marker;
}"""

_DENSITY = """function (row) {
    var circle = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: row[2], weight: 1, color: '#1f4e79', fillColor: '#1f4e79', fillOpacity: 0.35});
    circle.bindTooltip(row[3]);
    return circle;
}"""


def highlight_layer(point: tuple[float, float] | None, nearby: Sequence[Nearby], labels: dict[str, str],
                    name: str = "nearest") -> folium.FeatureGroup:
    """The picked point (0) and its nearest institutions, numbered 1… as in the list."""
    rows: list[list[Any]] = []
    if point is not None:
        rows.append([point[0], point[1], 0, f"<div class='nl-pop'>{e(labels.get('here', ''))}</div>"])
    for n, item in enumerate(nearby, start=1):
        inst = item.institution
        if inst.lat is not None and inst.lon is not None:
            rows.append([inst.lat, inst.lon, n, popup_html(inst, labels, item.km)])
    group = folium.FeatureGroup(name=name)
    RowLayer(rows, _NEAREST).add_to(group)
    return group


def density_layer(regions: Sequence[Any], label: str, name: str = "density") -> folium.FeatureGroup:
    """Institutions per 시군구 as circles sized by count (regions: objects with sido, sigungu, count, lat, lon)."""
    top = max((r.count for r in regions), default=1)
    rows = [[round(r.lat, 4), round(r.lon, 4), round(4 + 22 * (r.count / top) ** 0.5, 1),
             e(f"{r.sido} {r.sigungu}: {label} {r.count:,}")] for r in regions]
    group = folium.FeatureGroup(name=name)
    RowLayer(rows, _DENSITY).add_to(group)
    return group


def base_map(center: tuple[float, float] = KOREA_CENTER, zoom: int = KOREA_ZOOM) -> folium.Map:
    # min_zoom 6 (all of Korea): markercluster keeps a grid for every zoom level from the minimum up, so the levels
    # nobody needs (the whole world) would only slow the national view down.
    return OfflineMap(location=list(center), zoom_start=zoom, tiles="OpenStreetMap", control_scale=True,
                      prefer_canvas=True, min_zoom=6, max_zoom=18)
