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
