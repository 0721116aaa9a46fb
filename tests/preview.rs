//! `chunkwise preview` and the lazy slice under it: the PNG holds the slice after contrast, a
//! slice of a gaussian pipeline reads only the chunks its halo touches, bad arguments are one
//! line and write nothing.

mod common;

use chunkwise::prelude::*;
use common::{assert_fails, chunkwise_cmd, dir_with_input, exec, CountingSource};
use ndarray::{ArrayD, Axis};

fn decode(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn the_png_holds_the_slice_after_contrast() {
    let dir = dir_with_input(&[6, 10, 14], &[4, 4, 4], 3);
    let input = dir.path().join("in.zarr");
    let data: ArrayD<u16> = chunkwise::open(&input).unwrap().compute(&exec(1)).unwrap();
    let png_path = dir.path().join("slice.png");
    let out = chunkwise_cmd(&[
        "preview",
        input.to_str().unwrap(),
        "--axis",
        "z",
        "--index",
        "4",
        "--range",
        "0,65535",
        "-o",
        png_path.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (w, h, pixels) = decode(&png_path);
    assert_eq!((w, h), (14, 10));
    let slice = data.index_axis(Axis(0), 4);
    let want: Vec<u8> = slice
        .iter()
        .map(|&v| (f64::from(v) / 65535.0 * 255.0).round() as u8)
        .collect();
    assert_eq!(pixels, want);

    // Default contrast: the slice's 0.5th and 99.5th percentiles become black and white.
    let auto = dir.path().join("auto.png");
    let out = chunkwise_cmd(&[
        "preview",
        input.to_str().unwrap(),
        "--axis",
        "1",
        "--index",
        "9",
        "-o",
        auto.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (w, h, pixels) = decode(&auto);
    assert_eq!((w, h), (14, 6));
    assert_eq!(pixels.iter().min(), Some(&0));
    assert_eq!(pixels.iter().max(), Some(&255));
}

/// Runs `chunkwise preview` of `input` at z = `index` with a fixed display range and `extra`
/// arguments, asserting success.
fn preview_ok(input: &std::path::Path, index: &str, range: &str, extra: &[&str]) {
    let mut args = vec![
        "preview",
        input.to_str().unwrap(),
        "--index",
        index,
        "--range",
        range,
        "--quiet",
    ];
    args.extend(extra);
    let out = chunkwise_cmd(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn colormaps_paint_the_ends_and_middle_as_matplotlib_does() {
    // One z slice holding 0, 50 and 100 exactly: with --range 0,100 they are the map's ends and
    // middle. Reference colours: matplotlib's published viridis/magma tables at 0, 0.5 and 1.
    let data = ArrayD::from_shape_vec(vec![1, 1, 3], vec![0u16, 50, 100]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.zarr");
    chunkwise::from_ndarray(data, &[1, 1, 2])
        .unwrap()
        .to_zarr(&input, &chunkwise::store::WriteOptions::default(), &exec(1))
        .unwrap();
    for (map, want) in [
        ("viridis", [[68, 1, 84], [33, 145, 140], [253, 231, 37]]),
        ("magma", [[0, 0, 4], [183, 55, 121], [252, 253, 191]]),
    ] {
        let png_path = dir.path().join(format!("{map}.png"));
        preview_ok(
            &input,
            "0",
            "0,100",
            &["--colormap", map, "-o", png_path.to_str().unwrap()],
        );
        let (w, h, pixels) = decode(&png_path);
        assert_eq!((w, h), (3, 1));
        for (got, want) in pixels.chunks(3).zip(want) {
            // The middle entry of a 256-colour table sits between two entries: allow one step.
            for (g, w) in got.iter().zip(want) {
                assert!(g.abs_diff(w) <= 2, "{map}: {got:?} vs {want:?}");
            }
        }
    }
}

#[test]
fn the_histogram_png_is_drawn_beside_the_slice_or_neither_is_kept() {
    let dir = dir_with_input(&[6, 10, 14], &[4, 4, 4], 3);
    let input = dir.path().join("in.zarr");
    let (slice, hist) = (dir.path().join("s.png"), dir.path().join("h.png"));
    preview_ok(
        &input,
        "2",
        "0,65535",
        &[
            "-o",
            slice.to_str().unwrap(),
            "--histogram",
            hist.to_str().unwrap(),
        ],
    );
    let (w, h, pixels) = decode(&hist);
    assert_eq!((w, h), (800, 400));
    // Bars are drawn in dark gray (60, 60, 60) on white.
    assert!(pixels.chunks(3).any(|p| p == [60, 60, 60]), "no bars drawn");

    // A histogram that cannot be written takes the slice with it.
    std::fs::remove_file(&slice).unwrap();
    let unwritable = dir.path().join("no-such-dir").join("h.png");
    let out = chunkwise_cmd(&[
        "preview",
        input.to_str().unwrap(),
        "--index",
        "2",
        "-o",
        slice.to_str().unwrap(),
        "--histogram",
        unwritable.to_str().unwrap(),
    ]);
    assert_fails(&out, "drawing the histogram");
    assert!(!slice.exists(), "the slice was kept without its histogram");
}

#[test]
fn a_slice_of_a_gaussian_reads_only_the_chunks_its_halo_touches() {
    let data = common::random_array::<u16>(&[32, 16, 16], 8);
    let source = CountingSource::new(&data, &[4, 16, 16]);
    let x = Array::from_source(source.clone());
    let smooth = x
        .gaussian_filter(&[1.0, 1.0, 1.0], 4.0, &FilterOptions::default())
        .unwrap();
    let slice = chunkwise::ops::slice::take(&smooth, 0, 10).unwrap();
    let got: ArrayD<f32> = slice.compute(&exec(2)).unwrap();
    assert_eq!(got.shape(), &[16, 16]);
    // sigma 1, truncate 4: only the slab z 6..=14 is read (of 32 slices); a Zarr source would
    // decode the chunks holding it, 1 to 3 of 8.
    assert_eq!(source.elements_read(), 9 * 16 * 16);
    let full: ArrayD<f32> = smooth.compute(&exec(2)).unwrap();
    assert_eq!(got, full.index_axis(Axis(0), 10).into_dyn());
}

#[test]
fn a_slice_after_a_held_gaussian_computes_only_the_chunks_it_needs() {
    // gaussian -> downsample: the gaussian's chunks are a stage kept in memory for the
    // downsample. Slice z = 5 of the downsampled array needs gaussian rows 10..12, all in its
    // chunk z 8..12; only that chunk is computed, reading rows 4..16 (halo 4), not all 32.
    let data = common::random_array::<u16>(&[32, 16, 16], 9);
    let source = CountingSource::new(&data, &[4, 16, 16]);
    let x = Array::from_source(source.clone());
    let reduced = x
        .gaussian_filter(&[1.0, 1.0, 1.0], 4.0, &FilterOptions::default())
        .unwrap()
        .downsample(&[2, 2, 2], DownsampleMethod::Mean)
        .unwrap();
    let slice = chunkwise::ops::slice::take(&reduced, 0, 5).unwrap();
    let options = exec(2);
    let got: ArrayD<f32> = slice.compute(&options).unwrap();
    assert_eq!(source.elements_read(), 12 * 16 * 16);
    let full: ArrayD<f32> = reduced.compute(&options).unwrap();
    assert_eq!(got, full.index_axis(Axis(0), 5).into_dyn());
}

#[test]
fn bad_preview_arguments_fail_with_one_line_and_write_nothing() {
    let dir = dir_with_input(&[6, 10, 14], &[4, 4, 4], 3);
    let input = dir.path().join("in.zarr");
    let input = input.to_str().unwrap();
    let png_path = dir.path().join("slice.png");
    let png = png_path.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["--index", "6"],
            "index 6 is outside axis 0 of extent 6",
        ),
        (vec!["--index", "0", "--axis", "w"], "--axis \"w\""),
        (
            vec!["--index", "0", "--axis", "3"],
            "axis 3 is out of range",
        ),
        (vec!["--index", "0", "--range", "5,5"], "LO < HI"),
        (
            vec!["--index", "0", "--contrast", "1,101"],
            "outside [0, 100]",
        ),
    ] {
        let mut all = vec!["preview", input, "-o", png];
        all.extend(args);
        assert_fails(&chunkwise_cmd(&all), needle);
        assert!(!png_path.exists(), "{all:?} wrote a PNG");
    }
}
