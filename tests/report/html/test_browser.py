"""The HTML reports of the shared models, opened from disk in headless Chromium: no console error
and no request, one drawn node per operator, both memory plans drawn, and clicking, searching,
sorting, colouring and zooming work."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.frontends import read_model
from microforge.report.html import render_html, report_data
from microforge.report.html.quant import measure
from tests.builders.browser import Page, browser
from tests.builders.graphs import branched_int8
from tests.oracle import MODELS

pytestmark = pytest.mark.slow  # starts a browser

SHARED = ["hello_world_int8", "micro_speech_quantized", "person_detect"]


@pytest.fixture(scope="module")
def ctx():
    with browser() as c:
        yield c


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for name in SHARED:
        graph = read_model(MODELS / f"{name}.tflite")
        paths[name] = (out / f"{name}.html", graph)
        paths[name][0].write_text(render_html(report_data(graph, title=name)))
    return paths


@pytest.fixture
def opened(ctx, reports, request):
    path, graph = reports[request.param]
    page = Page(ctx, path)
    yield page, graph
    page.close()


@pytest.mark.parametrize("opened", SHARED, indirect=True)
def test_report_draws_every_operator_and_both_plans(opened):
    page, graph = opened
    p = page.page
    n_ops = len(graph.main.operators)
    assert p.locator("[data-op-index]").count() == n_ops
    assert sorted(int(e.get_attribute("data-op-index")) for e in p.locator("[data-op-index]").all()) == \
        list(range(n_ops))
    for plan in ("microforge", "TFLM greedy"):
        drawn = p.locator(f'[data-plan="{plan}"] [data-buffer]')
        assert drawn.count() > 0
        box = drawn.first.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    assert p.locator("#layer-table tbody tr").count() == n_ops
    assert page.problems == []


@pytest.mark.parametrize("opened", SHARED, indirect=True)
def test_clicking_a_node_shows_its_details(opened):
    page, graph = opened
    p = page.page
    last = len(graph.main.operators) - 1
    p.locator("#fit").click()  # the first view shows the top of a tall graph at a readable scale
    p.locator(f'[data-op-index="{last}"]').click()
    details = p.locator("#details")
    assert details.get_attribute("data-shown-op") == str(last)
    text = details.inner_text()
    assert graph.main.operators[last].opcode in text and "Options" in text and "Outputs" in text
    assert "selected" in p.locator(f'[data-op-index="{last}"]').get_attribute("class")
    assert page.problems == []


@pytest.mark.parametrize("opened", ["person_detect"], indirect=True)
def test_person_detect_details_search_sort_colour_zoom(opened):
    page, graph = opened
    p = page.page
    # a CONV_2D after the patch stage (ops 0-3, whose intermediates are never whole in the
    # arena): per-channel weights, arena offsets in both plans
    p.locator('[data-op-index="4"]').click()
    text = p.locator("#details").inner_text()
    channels = graph.main.tensors[graph.main.operators[4].inputs[1]].quant.scale.size
    assert "per-channel scale" in text and f"over {channels} channels" in text
    assert "microforge +" in text and "TFLM greedy +" in text and "MACs" in text
    p.locator("#search").fill("Conv2d_13_pointwise")  # op 26 writes it, op 27 reads it
    sg = graph.main
    touching = [i for i, op in enumerate(sg.operators)
                if any("conv2d_13_pointwise" in sg.tensors[t].name.lower() for t in op.inputs + op.outputs)]
    assert touching[0] == 26
    assert p.locator("g.node.hit").count() == len(touching)
    assert p.locator("g.node.dim").count() == len(sg.operators) - len(touching)
    assert p.locator("g.edge.hit").count() >= 1
    p.locator("#search").press("Enter")
    assert p.locator("#details").get_attribute("data-shown-op") == "26"
    p.locator("#search").fill("")
    p.locator("#layer-table th").nth(4).click()
    p.locator("#layer-table th").nth(4).click()  # descending
    first = p.locator("#layer-table tbody tr").first.get_attribute("data-row-op")
    macs = [op["macs"] for op in report_data(graph, title="x")["operators"]]
    assert macs[int(first)] == max(macs)
    before = p.locator('[data-op-index="0"] rect').get_attribute("fill")
    p.locator("#colour-by").select_option("cost")
    assert p.locator('[data-op-index="0"] rect').get_attribute("fill") != before
    viewport = p.locator("#viewport")
    t0 = viewport.get_attribute("transform")
    p.locator("#graph").hover()
    p.mouse.wheel(0, -300)
    assert viewport.get_attribute("transform") != t0
    box = p.locator("#graph").bounding_box()
    x, y = box["x"] + 20, box["y"] + 20
    t1 = viewport.get_attribute("transform")
    p.mouse.move(x, y)
    p.mouse.down()
    p.mouse.move(x + 60, y + 40, steps=4)
    p.mouse.up()
    assert viewport.get_attribute("transform") != t1
    tensor_buffer = '[data-plan="microforge"] [data-buffer]:not([data-buffer^="scratch"])'
    p.locator(tensor_buffer).first.dispatch_event("click")  # in-place buffers overlap
    assert "buffer" in p.locator("#buffer-info").inner_text()
    assert p.locator('[data-buffer].selected').count() >= 2  # the same buffer in both plans
    assert page.problems == []


def test_quantization_table_marks_the_worst_layers(ctx, tmp_path):
    calibration = tmp_path / "cal.npy"
    np.save(calibration, np.random.default_rng(0).uniform(0, 1, (8, 28, 28)).astype(np.float32))
    graph, quant = measure(read_model(MODELS / "trained_lstm_int8.tflite"), calibration,
                           read_model(MODELS / "trained_lstm.tflite"))
    path = tmp_path / "lstm.html"
    path.write_text(render_html(report_data(graph, title="lstm", quant=quant)))
    page = Page(ctx, path)
    p = page.page
    rows = p.locator("#quant-table tbody tr")
    assert rows.count() == len(quant["layers"]) == 4
    worst = min(quant["layers"], key=lambda r: r["sqnr_db"])
    assert p.locator(f'#quant-table tr.worst[data-quant-op="{worst["op_index"]}"]').count() == 1
    p.locator("#colour-by").select_option("quant")
    p.locator('[data-op-index="0"]').click()
    assert "SQNR" in p.locator("#details").inner_text()
    assert page.problems == []
    page.close()


def test_reordered_branches_are_drawn_side_by_side(ctx, tmp_path):
    path = tmp_path / "branches.html"
    path.write_text(render_html(report_data(branched_int8(), title="branches")))
    page = Page(ctx, path)
    p = page.page
    assert p.locator("[data-op-index]").count() == 5
    xs = {i: p.locator(f'[data-op-index="{i}"]').bounding_box()["x"] for i in (0, 1)}
    assert xs[0] != xs[1]  # the two branches side by side
    assert "Operators reordered" in p.locator("#memory").inner_text()
    assert page.problems == []
    page.close()


def test_an_ethos_u_report_shows_npu_placement_and_cycles(ctx, tmp_path):
    pytest.importorskip("ethosu.vela", reason="needs ethos-u-vela: pip install 'microforge[npu]'")
    from microforge.compiler import compile

    model = MODELS / "micro_speech_quantized.tflite"
    report = compile(model, tmp_path / "npu", target="ethos-u55-128")
    path = tmp_path / "npu.html"
    path.write_text(render_html(report_data(read_model(model), title="ms", compile_report=report)))
    page = Page(ctx, path)
    p = page.page
    on_npu = [row["index"] for row in report.ops if row["target"] == "npu"]
    assert on_npu
    assert "NPU (" + str(len(on_npu)) + ")" in p.locator("#legend").inner_text()
    assert p.locator("#layer-table th", has_text="NPU cycles").count() == 1
    cycles = p.locator(f'#layer-table tr[data-row-op="{on_npu[0]}"] td').nth(7).inner_text()
    assert cycles == f"{report.ops[on_npu[0]]['npu_cycles']:,}"
    p.locator(f'[data-op-index="{on_npu[0]}"]').click()
    assert "NPU" in p.locator("#details h3").first.inner_text()
    assert page.problems == []
    page.close()
