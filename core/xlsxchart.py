"""The XML of the Summary chart and of the drawing that places it on its sheet.

A native Excel chart is two parts: the chart (``xl/charts/chartN.xml``, DrawingML
``c:chartSpace``) and the sheet's drawing (``xl/drawings/drawingN.xml``) that anchors it to
cells. `potentiel.xlsxpackage.Package.add_chart` adds them to a package; this module only
writes their XML, elements in the schema's order. The chart reads its cells by reference
(Excel and LibreOffice redraw it from the cells); the cached values written with it are
the ones of the run that created it.
"""

from __future__ import annotations

from typing import Any, Sequence
from xml.sax.saxutils import escape

from .problems import column_letter

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
EMU_PER_COL = 609600   # 64 px at 96 dpi: a column of the default width
EMU_PER_ROW = 190500   # 20 px


def quoted(sheet: str) -> str:
    """A sheet name as a formula spells it: always quoted, quotes doubled."""
    return "'" + sheet.replace("'", "''") + "'"


def _ref(sheet: str, col: int, first: int, last: int | None = None) -> str:
    letter = column_letter(col)
    end = f":${letter}${last}" if last is not None else ""
    return escape(f"{quoted(sheet)}!${letter}${first}{end}")


def _str_cache(values: Sequence[Any]) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{escape(str(v))}</c:v></c:pt>'
                  for i, v in enumerate(values) if v not in (None, ""))
    return f'<c:strCache><c:ptCount val="{len(values)}"/>{pts}</c:strCache>'


def _num_cache(values: Sequence[Any], fmt: str) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{float(v)!r}</c:v></c:pt>'
                  for i, v in enumerate(values)
                  if isinstance(v, (int, float)) and not isinstance(v, bool))
    return (f"<c:numCache><c:formatCode>{escape(fmt)}</c:formatCode>"
            f'<c:ptCount val="{len(values)}"/>{pts}</c:numCache>')


def _fill(colour: str) -> str:
    return f'<a:solidFill><a:srgbClr val="{colour.lstrip("#").upper()}"/></a:solidFill>'


def column_chart_xml(sheet: str, chart, labels: Sequence[Any], values: Sequence[Any],
                     title_row: int, title: str = "") -> bytes:
    """A clustered column chart, one series: ``chart.values_col`` over rows
    ``chart.first_row``–``chart.last_row`` of ``sheet``, categories from
    ``chart.labels_col``, bar ``k`` in ``chart.colours[k]``, value labels in
    ``chart.number_format``. The title and the series name are the header cell of the
    values column (row ``title_row``), so they read in the workbook's language.
    ``labels``/``values``/``title``: the cells' current values, cached in the part."""
    first, last = chart.first_row, chart.last_row
    name_ref = _ref(sheet, chart.values_col, title_row)
    name = f"<c:strRef><c:f>{name_ref}</c:f>{_str_cache([title])}</c:strRef>"
    points = "".join(f'<c:dPt><c:idx val="{k}"/><c:invertIfNegative val="0"/>'
                     f'<c:bubble3D val="0"/><c:spPr>{_fill(colour)}</c:spPr></c:dPt>'
                     for k, colour in enumerate(chart.colours[:last - first + 1]))
    fmt = escape(chart.number_format)
    flags = ('<c:showLegendKey val="0"/><c:showVal val="{}"/><c:showCatName val="0"/>'
             '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>')
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
        '<c:roundedCorners val="0"/>'
        "<c:chart>"
        f"<c:title><c:tx>{name}</c:tx>"
        '<c:overlay val="0"/><c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr>'
        '<a:defRPr sz="1200" b="1"/></a:pPr><a:endParaRPr lang="en-US"/></a:p></c:txPr>'
        "</c:title>"
        '<c:autoTitleDeleted val="0"/>'
        "<c:plotArea><c:layout/>"
        '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        '<c:varyColors val="0"/>'
        '<c:ser><c:idx val="0"/><c:order val="0"/>'
        f"<c:tx>{name}</c:tx>"
        f'<c:spPr>{_fill("#607D8B")}</c:spPr><c:invertIfNegative val="0"/>'
        f"{points}"
        f'<c:dLbls><c:numFmt formatCode="{fmt}" sourceLinked="0"/>'
        '<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>'
        '<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="900" b="1"/></a:pPr>'
        '<a:endParaRPr lang="en-US"/></a:p></c:txPr>'
        '<c:dLblPos val="outEnd"/>' + flags.format(1) + "</c:dLbls>"
        f"<c:cat><c:strRef><c:f>{_ref(sheet, chart.labels_col, first, last)}</c:f>"
        f"{_str_cache(labels)}</c:strRef></c:cat>"
        f"<c:val><c:numRef><c:f>{_ref(sheet, chart.values_col, first, last)}</c:f>"
        f"{_num_cache(values, chart.number_format)}</c:numRef></c:val>"
        "</c:ser>"
        '<c:gapWidth val="60"/><c:axId val="70010001"/><c:axId val="70010002"/></c:barChart>'
        '<c:catAx><c:axId val="70010001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="70010002"/><c:crosses val="autoZero"/><c:auto val="1"/>'
        '<c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="70010002"/><c:scaling><c:orientation val="minMax"/>'
        '<c:min val="0"/></c:scaling><c:delete val="0"/><c:axPos val="l"/>'
        f'<c:majorGridlines><c:spPr><a:ln>{_fill("#E0E0E0")}</a:ln></c:spPr></c:majorGridlines>'
        f'<c:numFmt formatCode="{fmt}" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="70010001"/><c:crosses val="autoZero"/>'
        '<c:crossBetween val="between"/></c:valAx>'
        "</c:plotArea>"
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/>'
        "</c:chart>"
        "</c:chartSpace>")
    return xml.encode("utf-8")


def drawing_xml(col: int, row: int, cols: int, rows: int, name: str = "Chart 1") -> bytes:
    """A drawing holding one chart (relationship ``rId1``) anchored from the cell at
    0-based (``col``, ``row``) over ``cols`` × ``rows`` cells."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">'
        '<xdr:twoCellAnchor editAs="oneCell">'
        f"<xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>95250</xdr:colOff>"
        f"<xdr:row>{row}</xdr:row><xdr:rowOff>38100</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{col + cols}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{row + rows}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
        '<xdr:graphicFrame macro="">'
        f'<xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="{escape(name)}"/>'
        "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{C_NS}">'
        f'<c:chart xmlns:c="{C_NS}" xmlns:r="{R_NS}" r:id="rId1"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/>"
        "</xdr:twoCellAnchor></xdr:wsDr>").encode("utf-8")
