"""The live chart: a dataset's series streamed point by point, over a WebSocket or over SSE.

The book plots a house-price index live as its points arrive; here the page picks a dataset,
sheet and numeric column, and `/ws/live` (flask-sock) or `/live/stream` (Server-Sent Events)
sends `meta`, then one `point` {"i", "x", "y"} every `interval` ms, then `end`. Both run in the
request's thread (gunicorn gthread or the threaded dev server) and stop when the browser goes:
the next send fails and the loop ends, leaving no thread behind.
"""

from __future__ import annotations

import contextlib
import json
import socket as py_socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from flask import Blueprint, current_app, g, render_template, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from analysis.results import json_safe, numeric_column
from errors import BadInput, QuartileError
from store.db import db
from store.models import Dataset
from upload.resources import dataset_dict
from upload.service import load_sheet
from web.access import dataset_for_read, readable_datasets_query
from web.jobs import event_stream, first_sheet_with_numbers, numeric_columns, sse

bp = Blueprint("live", __name__)
sock = Sock()
DEFAULT_INTERVAL_MS = 150
MAX_INTERVAL_MS = 5000


class CrossSite(QuartileError):
    status, code = 403, "cross_site"


@dataclass(frozen=True)
class Series:
    dataset: str
    sheet: str
    column: str
    labels: list[str]
    values: list[float | None]
    interval: float  # seconds between points

    def meta(self) -> dict:
        return {"dataset": self.dataset, "sheet": self.sheet, "column": self.column,
                "n": len(self.values)}

    def points(self) -> Iterator[dict]:
        for i, (label, value) in enumerate(zip(self.labels, self.values, strict=True)):
            yield {"i": i, "x": label, "y": value}


def series_from_request() -> Series:
    """The series named by ?dataset=&sheet=&column=&interval= (ms), checked like any analysis."""
    args = request.args
    dataset = dataset_for_read(args.get("dataset", ""))
    sheet, column = args.get("sheet", ""), args.get("column", "")
    if not sheet or not column:
        raise BadInput("Choose a sheet and a column to stream.")
    frame = load_sheet(Path(current_app.config["FILES_DIR"]), dataset, sheet)
    values = numeric_column(frame, sheet, column)
    db.session.commit()  # end the read before a long stream
    try:
        interval = int(args.get("interval", DEFAULT_INTERVAL_MS))
    except ValueError:
        raise BadInput("The interval is a whole number of milliseconds.") from None
    if not 0 <= interval <= MAX_INTERVAL_MS:
        raise BadInput(f"The interval is 0 to {MAX_INTERVAL_MS} ms.")
    return Series(dataset.id, sheet, column, index_labels(frame.index),
                  json_safe(values.tolist()), interval / 1000)


def index_labels(index: pd.Index) -> list[str]:
    """Period labels as shown elsewhere ("1975Q1"); a plain row number counts from 1."""
    if isinstance(index, pd.RangeIndex):
        return [str(i + 1) for i in range(len(index))]
    return [str(label) for label in json_safe(list(index))]


@bp.before_app_request  # app-wide: APIFlask's spec generator rejects a plain blueprint's hook
def check_socket_request():
    """Refuse a WebSocket from another site and check its parameters while an HTTP error can
    still be sent (once the handshake is done, only a close frame can)."""
    if request.endpoint != "live.socket":
        return
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise CrossSite("WebSockets are accepted from this site's own pages only.")
    g.live_series = series_from_request()


@sock.route("/ws/live", bp=bp)
def socket(ws):
    """The series over a WebSocket: JSON messages meta, point…, end."""
    series: Series = g.live_series
    try:
        ws.send(json.dumps({"type": "meta", **series.meta()}))
        for point in series.points():
            ws.send(json.dumps({"type": "point", **point}))
            if series.interval:
                time.sleep(series.interval)
        ws.send(json.dumps({"type": "end", "n": len(series.values)}))
    except ConnectionError:  # the browser left mid-send, before its close frame: not an error
        pass
    finally:
        close_cleanly(ws)


def close_cleanly(ws) -> None:
    """Close the WebSocket, then the TCP stream under it: after the handler, flask-sock lets the
    dev server write an HTTP answer on the same socket, which a browser still reading would
    report as "Invalid frame header"."""
    with contextlib.suppress(ConnectionClosed):
        ws.close()
    with contextlib.suppress(OSError):
        ws.sock.shutdown(py_socket.SHUT_RDWR)


@bp.get("/live/stream")
def stream():
    """The same series as Server-Sent Events: `meta`, `point`…, `end`."""
    series = series_from_request()
    return event_stream(sse_points(series), lambda: None)


def sse_points(series: Series) -> Iterator[str]:
    yield "retry: 86400000\n\n"  # a finished stream should not be replayed by a reconnect
    yield sse("meta", series.meta())
    for point in series.points():
        yield sse("point", point)
        if series.interval:
            time.sleep(series.interval)
    yield sse("end", {"n": len(series.values)})


@bp.get("/live")
def page():
    """Pick a series and watch it drawn point by point, over a WebSocket or SSE."""
    datasets = db.session.scalars(
        readable_datasets_query().order_by(Dataset.created_at.desc()).limit(500)
    ).all()
    dataset_id = request.args.get("dataset") or (datasets[0].id if datasets else None)
    chosen = dataset_for_read(dataset_id) if dataset_id else None
    sheets = dataset_dict(chosen)["sheets"] if chosen else []
    names = [s["name"] for s in sheets]
    sheet = request.args.get("sheet") or first_sheet_with_numbers(chosen, names)
    if sheet is not None and sheet not in names:
        raise BadInput(f"This dataset has no sheet named {sheet!r}.", code="unknown_sheet",
                       status=404)
    columns = numeric_columns(chosen, sheet) if sheet else []
    column = request.args.get("column") or (columns[0] if columns else None)
    if column is not None and column not in columns:
        raise BadInput(f"Sheet {sheet!r} has no numeric column {column!r}.", code="unknown_column")
    return render_template(
        "live/page.html", datasets=[{"id": d.id, "name": d.name} for d in datasets],
        dataset=chosen.id if chosen else None, sheets=names, sheet=sheet, columns=columns,
        column=column, interval=DEFAULT_INTERVAL_MS,
    )
