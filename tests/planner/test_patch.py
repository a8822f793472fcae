"""Band geometry of patch-based execution: every band's rows are exactly the rows its outputs
read (TFLM's indexing, padding rows excluded), recomputation is counted, and the in-place bound
of a stage's output over its input holds for every band."""

from microforge.planner.patch import RowGeometry, split_rows


def _conv(in_h, k, stride, pad_top, dil=1, row_bytes=10):
    out_h = (in_h + 2 * pad_top - (k - 1) * dil - 1) // stride + 1
    return RowGeometry(in_h, out_h, k, stride, dil, pad_top, row_bytes, row_bytes, 100)


def test_bands_read_exactly_their_windows():
    members = [_conv(39, 3, 1, 1), _conv(39, 3, 2, 1), _conv(20, 1, 1, 0)]
    stage = split_rows(members, 3)
    assert [b[-1].out_first for b in stage.bands] == list(range(0, 20, 3))
    for band in stage.bands:
        for j, call in enumerate(band):
            m = members[j]
            rows = [oy * m.stride - m.pad_top + t * m.dil
                    for oy in range(call.out_first, call.out_first + call.out_h) for t in range(m.k_h)]
            inside = [r for r in rows if 0 <= r < m.in_h]
            assert (call.in_first, call.in_first + call.in_h) == (min(inside), max(inside) + 1)
            # the kernel's local indexing lands on the same rows
            assert call.pad_top == m.pad_top + call.in_first - call.out_first * m.stride
            if j:
                prev = band[j - 1]
                assert (prev.out_first, prev.out_h) == (call.in_first, call.in_h)


def test_recomputation_is_the_rows_computed_twice():
    members = [_conv(40, 3, 1, 1), _conv(40, 3, 2, 1)]
    stage = split_rows(members, 4)
    # member 0's band for 4 rows of stride-2 output needs 9 rows; neighbours share one
    computed = sum(b[0].out_h for b in stage.bands)
    assert stage.extra_macs == (computed - members[0].out_h) * 100 > 0
    assert split_rows(members, members[-1].out_h).extra_macs == 0


def test_inplace_shift_keeps_later_bands_inputs():
    members = [_conv(32, 3, 1, 1, row_bytes=8), _conv(32, 3, 2, 1, row_bytes=8)]
    stage = split_rows(members, 2)
    shift = stage.inplace_shift()
    for k, band in enumerate(stage.bands):
        end = (band[-1].out_first + band[-1].out_h) * members[-1].out_row_bytes + shift
        for later in stage.bands[k + 1:]:
            assert end <= later[0].in_first * members[0].in_row_bytes


def _holds(stage, member, band_index):
    """The rows member ``member``'s slot holds after band ``band_index`` (replaying the moves)."""
    rows = []
    for band in stage.bands[:band_index + 1]:
        c = band[member]
        rows = rows[c.move_from:c.move_from + c.keep] + list(range(c.out_first, c.out_first + c.out_h))
    return rows


def test_retained_rows_are_computed_once_and_read_in_place():
    members = [_conv(41, 3, 2, 1), _conv(21, 3, 1, 1), _conv(21, 1, 1, 0), _conv(21, 3, 2, 0)]
    for rows in (1, 2, 3):
        stage = split_rows(members, rows, retain=True)
        assert stage.extra_macs == 0
        computed = [[] for _ in members]
        for b, band in enumerate(stage.bands):
            for j, call in enumerate(band):
                computed[j] += range(call.out_first, call.out_first + call.out_h)
                if j and call.out_h:  # the previous member's slot holds exactly this input band
                    assert _holds(stage, j - 1, b) == list(range(call.in_first, call.in_first + call.in_h))
        for j in range(len(members)):
            assert sorted(set(computed[j])) == computed[j]  # each row once, in order
        assert computed[-1] == list(range(members[-1].out_h))
        assert len(stage.slots) == len(members) - 1
        assert stage.scratch_bytes < split_rows(members, members[-1].out_h - 1).scratch_bytes
