//! Printing through the real binary: what is printed is read back by real decoders
//! (zbarimg on a PDF rasterised by pdftoppm, rqrr on PNG files), every URI read verifies as
//! genuine, roll modules are whole printer dots, Vietnamese text is drawn, and bad input is
//! refused before any file is written. `make test` installs pdftoppm and zbarimg when missing.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use truyxuat::app;
use truyxuat::domain::batch::IndexRange;
use truyxuat::labelcode::keystore;
use truyxuat::render::{self, EcLevel, Format, Label, PrintJob};

use crate::support::cli_env::CliEnv;

/// Enough for two A4 pages of 5 x 8 and a part page.
const COUNT: u32 = 90;

/// A CLI environment with the helpers printing tests share.
struct Env(CliEnv);

impl std::ops::Deref for Env {
    type Target = CliEnv;
    fn deref(&self) -> &CliEnv {
        &self.0
    }
}

impl Env {
    fn new() -> Env {
        Env(CliEnv::new())
    }

    /// Asserts every URI is genuine for the service.
    async fn assert_genuine(&self, uris: &BTreeSet<String>) {
        let store = truyxuat::store::open(&self.db_url()).await.unwrap();
        let keys = keystore::load(&self.keys()).unwrap();
        for uri in uris {
            let verdict = app::labels::verify(&*store, &keys, uri).await.unwrap();
            assert!(verdict.is_genuine(), "{uri}: {}", verdict.reason);
        }
    }
}

fn tool(name: &str) -> &str {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{name} is missing: `make test` installs it (apt-get install poppler-utils zbar-tools)"
    );
    name
}

/// Rasterises a PDF at `dpi` and decodes every QR code with zbarimg, page by page.
pub fn decode_pdf(pdf: &Path, dpi: u32) -> Vec<String> {
    let folder = tempfile::tempdir().unwrap();
    let prefix = folder.path().join("page");
    let status = Command::new(tool("pdftoppm"))
        .args(["-r", &dpi.to_string(), "-gray", "-png"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    let mut uris = Vec::new();
    for (number, page) in pages.iter().enumerate() {
        let mut read = zbar_page(page);
        // Under the whole suite's load on a 2-core machine zbarimg has, rarely, read not one
        // code of a full page, twice in a row (the same pages read alone decode whole, over
        // hundreds of tries). A page read empty is read again, then rasterised afresh at
        // another resolution and read, so every label is still read by zbarimg.
        if read.is_empty() {
            read = zbar_page(page);
        }
        if read.is_empty() {
            read = zbar_page(&rasterise_page(pdf, number + 1, dpi * 2 / 3, folder.path()));
        }
        uris.extend(read);
    }
    uris
}

/// Page `number` (from 1) of a PDF alone, rasterised at `dpi`, as a PNG in `folder`.
fn rasterise_page(pdf: &Path, number: usize, dpi: u32, folder: &Path) -> PathBuf {
    let prefix = folder.join(format!("again-{number}"));
    let n = number.to_string();
    let status = Command::new(tool("pdftoppm"))
        .args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
        .args(["-f", &n, "-l", &n])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    prefix.with_extension("png")
}

/// The codes zbarimg reads on one page image.
fn zbar_page(page: &Path) -> Vec<String> {
    let out = Command::new(tool("zbarimg"))
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(page)
        .output()
        .unwrap();
    // zbarimg exits 4 when it finds no code; anything else but success is a failure of the
    // tool, which says why on its error output.
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "zbarimg failed on {}: {:?} {}",
        page.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        eprintln!(
            "zbarimg read nothing on {}: {:?} {}",
            page.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn set(uris: &[String]) -> BTreeSet<String> {
    uris.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a4_sheets_png_files_and_rolls_decode_label_for_label() {
    let env = Env::new();
    let (batch, uris) = env.demo_batch(COUNT);
    assert_eq!(uris.len(), COUNT as usize);

    let pdf = env.path("sheets.pdf");
    env.ok(&[
        "print",
        &batch,
        "--layout",
        "a4-5x8",
        "-o",
        pdf.to_str().unwrap(),
    ]);
    let decoded = decode_pdf(&pdf, 300);
    assert_eq!(decoded.len(), uris.len(), "one code read per label");
    assert_eq!(set(&decoded), set(&uris));
    env.assert_genuine(&set(&decoded)).await;

    let zip_path = env.path("labels.zip");
    env.ok(&[
        "print",
        &batch,
        "--format",
        "png-zip",
        "--dpi",
        "203",
        "-o",
        zip_path.to_str().unwrap(),
    ]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut from_png = Vec::new();
    for i in 0..archive.len() {
        let mut bytes = Vec::new();
        archive
            .by_index(i)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        from_png.push(decode_png(&bytes));
    }
    assert_eq!(
        from_png, uris,
        "PNG files in index order, each read by rqrr"
    );

    let roll = env.path("roll.pdf");
    env.ok(&[
        "print",
        &batch,
        "--layout",
        "roll-50x30",
        "--dpi",
        "300",
        "--range",
        "10..20",
        "-o",
        roll.to_str().unwrap(),
    ]);
    let decoded = decode_pdf(&roll, 300);
    assert_eq!(decoded, uris[10..20].to_vec());
    env.assert_genuine(&set(&decoded)).await;

    let csv = env.path("labels.csv");
    env.ok(&[
        "print",
        &batch,
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("\u{FEFF}index,serial,uri\r\n"));
    let second: Vec<&str> = text.lines().nth(2).unwrap().split(',').collect();
    assert_eq!(second[0], "1");
    assert_eq!(second[2], uris[1]);
    assert!(uris[1].ends_with(second[1]));
}

/// Decodes a 1-bit PNG with rqrr; also checks it records its resolution.
fn decode_png(bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let dims = reader.info().pixel_dims.expect("pHYs");
    assert_eq!(dims.xppu, 7992, "203 dpi");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

/// The PDF with its compressed streams inflated, as text.
fn inflated(pdf: &[u8]) -> String {
    let text = String::from_utf8_lossy(pdf).into_owned();
    let mut out = String::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"/FlateDecode >>\nstream\n") {
        let data = &rest[start + 23..];
        let end = find(data, b"\nendstream").unwrap();
        let mut page = String::new();
        flate2::read::ZlibDecoder::new(&data[..end])
            .read_to_string(&mut page)
            .unwrap();
        out.push_str(&page);
        rest = &data[end..];
    }
    text + &out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Numbers after `key` on each line that has it.
fn numbers_after(text: &str, key: &str) -> Vec<Vec<f64>> {
    text.lines()
        .filter_map(|l| l.split_once(key).map(|(before, _)| before))
        .map(|nums| {
            nums.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .collect()
}

#[test]
fn pages_have_the_layouts_size_and_roll_modules_are_whole_dots() {
    let env = Env::new();
    let (batch, _) = env.demo_batch(8);
    let mm = |pt: f64| pt * 25.4 / 72.0;
    for (layout, dpi, size) in [
        ("a4-3x7", 203, (210.0, 297.0)),
        ("roll-40x30", 300, (40.0, 30.0)),
        ("roll-50x40", 203, (50.0, 40.0)),
        ("roll:45x35", 203, (45.0, 35.0)),
    ] {
        let pdf = env.path("out.pdf");
        env.ok(&[
            "print",
            &batch,
            "--layout",
            layout,
            "--dpi",
            &dpi.to_string(),
            "-o",
            pdf.to_str().unwrap(),
        ]);
        let text = inflated(&std::fs::read(&pdf).unwrap());
        let boxes: Vec<&str> = text
            .match_indices("/MediaBox [")
            .map(|(i, _)| &text[i + 11..])
            .collect();
        assert!(!boxes.is_empty());
        for b in boxes {
            let v: Vec<f64> = b[..b.find(']').unwrap()]
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            assert!(
                (mm(v[2]) - size.0).abs() < 1e-3 && (mm(v[3]) - size.1).abs() < 1e-3,
                "{layout}: {v:?}"
            );
        }
        if layout.starts_with("roll") {
            // `side 0 0 side x y cm` places each code; with 8 + n modules of k dots.
            let dots = |pt: f64| pt / 72.0 * f64::from(dpi);
            let placements = numbers_after(&text, " cm");
            assert_eq!(placements.len(), 8);
            // Each placement is followed by its code as an inline image of n x n modules.
            let sizes: Vec<(f64, f64)> = text
                .split("BI /W ")
                .skip(1)
                .map(|rest| {
                    let words: Vec<&str> = rest.split_whitespace().take(3).collect();
                    assert_eq!(words[1], "/H", "{layout}: {words:?}");
                    (words[0].parse().unwrap(), words[2].parse().unwrap())
                })
                .collect();
            assert_eq!(sizes.len(), 8, "{layout}: one image a label");
            for (p, (width, height)) in placements.iter().zip(sizes) {
                assert_eq!(width, height, "{layout}: a QR code is square");
                // Printers rasterise from the label's top-left corner: the code's top edge
                // is measured from the top (PDF's y runs upwards from the bottom).
                let page_top = size.1 / 25.4 * f64::from(dpi);
                let (side, x) = (dots(p[0]), dots(p[4]));
                let y = page_top - dots(p[5]) - side;
                let per_module = side / width;
                let whole = |v: f64| (v - v.round()).abs() < 1e-3;
                assert!(
                    whole(per_module) && per_module >= if dpi >= 300 { 5.0 } else { 4.0 },
                    "{layout}: {per_module} dots a module"
                );
                assert!(whole(x) && whole(y), "{layout}: code at {x}, {y} dots");
            }
        }
    }
}

/// A PDF of one sheet with `name` under the codes, rasterised at 300 dpi as greyscale.
fn sheet_with_name(folder: &Path, name: &str) -> (usize, usize, Vec<u8>) {
    let job = PrintJob {
        format: Format::Pdf,
        layout: "a4-3x7".parse().unwrap(),
        dpi: 300,
        ec: EcLevel::M,
        qr_mm: None,
        lines: vec![name.to_owned()],
        calibration: false,
    };
    let source = |range: IndexRange, out: &mut Vec<Label>| -> Result<(), String> {
        for index in range.first..range.end {
            out.push(Label {
                index,
                serial: "0F9QGPN36EE7DAMVR5C5".into(),
                uri: "HTTPS://TRUYXUAT.EXAMPLE.VN/T/0F9QGPN36EE7DAMVR5C5".into(),
            });
        }
        Ok(())
    };
    let pdf = folder.join(format!("{name}.pdf"));
    render::print(&job, IndexRange { first: 0, end: 1 }, &source, &pdf).unwrap();
    let prefix = folder.join(name);
    let ok = Command::new(tool("pdftoppm"))
        .args(["-r", "300", "-gray", "-singlefile"])
        .arg(&pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success());
    // Also a PNG to look at.
    let _ = Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-png",
            "-singlefile",
            "-x",
            "0",
            "-y",
            "0",
            "-W",
            "900",
            "-H",
            "700",
        ])
        .arg(&pdf)
        .arg(std::env::temp_dir().join(format!("truyxuat-print-{name}")))
        .status();
    let pgm = std::fs::read(prefix.with_extension("pgm")).unwrap();
    // "P5\n<w> <h>\n255\n" then the pixels.
    let mut fields = pgm.splitn(4, |b| b.is_ascii_whitespace());
    let _magic = fields.next();
    let w: usize = std::str::from_utf8(fields.next().unwrap())
        .unwrap()
        .parse()
        .unwrap();
    let h: usize = std::str::from_utf8(fields.next().unwrap())
        .unwrap()
        .parse()
        .unwrap();
    let pixels = pgm[pgm.len() - w * h..].to_vec();
    (w, h, pixels)
}

#[test]
fn vietnamese_diacritics_are_drawn() {
    let folder = tempfile::tempdir().unwrap();
    let (w, h, accented) = sheet_with_name(folder.path(), "Gạo");
    let (_, _, plain) = sheet_with_name(folder.path(), "Gao");
    // Pixels that differ: the dot below the a, nowhere else.
    let differing: Vec<(usize, usize)> = (0..w * h)
        .filter(|&i| accented[i].abs_diff(plain[i]) > 64)
        .map(|i| (i % w, i / w))
        .collect();
    assert!(
        differing.len() >= 4,
        "the dot below 'ạ' is drawn: {} pixels differ",
        differing.len()
    );
    let (ys, xs): (Vec<usize>, Vec<usize>) = differing.iter().map(|&(x, y)| (y, x)).unzip();
    let (top, bottom) = (ys.iter().min().unwrap(), ys.iter().max().unwrap());
    let (left, right) = (xs.iter().min().unwrap(), xs.iter().max().unwrap());
    // A glyph-sized spot (under 2 mm = 24 px at 300 dpi) in the first label.
    assert!(
        bottom - top < 24 && right - left < 24,
        "{left}..{right} x {top}..{bottom}"
    );
    assert!(*right < 900 && *bottom < 700);
    // Dark pixels under the a, in the accented rendering only.
    assert!(differing.iter().any(|&(x, y)| accented[y * w + x] < 128));
}

#[test]
fn bad_input_is_refused_before_any_output() {
    let env = Env::new();
    let (batch, _) = env.demo_batch(10);
    let target = env.path("labels.pdf");
    std::fs::write(&target, b"an earlier print").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--layout", "a4-9x9"], "unknown layout"),
        (
            &["--layout", "sheet:3x3:90x80"],
            "more than the 210 x 297 mm sheet",
        ),
        (
            &["--layout", "roll:20x14", "--dpi", "203"],
            "fewer than the 4 a scanner needs",
        ),
        (
            &["--layout", "roll-40x30", "--dpi", "250"],
            "203 or 300 dpi",
        ),
        (&["--range", "5..11"], "outside the batch"),
        (&["--format", "png-zip", "--qr-mm", "15"], "fewer than 4"),
    ];
    for (args, message) in cases {
        let mut all = vec!["print", &batch, "-o", target.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = env.run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"an earlier print",
            "{args:?}"
        );
        let left: Vec<_> = std::fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    let out = env.run(&["print", "999", "-o", target.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no batch 999"));
    let layouts = env.ok(&["layouts"]);
    assert!(layouts.contains("a4-5x8") && layouts.contains("roll-50x30"));
}

/// A name with markup, an emoji the label font lacks, and (stored before names were
/// checked) a control character still prints: SVG files stay well-formed XML that shows
/// the name, with a visible placeholder for the emoji, and the PDF is written.
#[tokio::test]
async fn hostile_and_emoji_names_still_print() {
    let env = Env::new();
    let (batch, _) = env.demo_batch(3);
    let name = "Mật ong <!--<script> & \"Xuân\" 🍯\u{1b}[2J";
    let pool = sqlx::SqlitePool::connect(&env.db_url()).await.unwrap();
    sqlx::query("UPDATE products SET name = $1 WHERE id = 1")
        .bind(name)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let zip_path = env.path("labels.zip");
    env.ok(&[
        "print",
        &batch,
        "--format",
        "svg-zip",
        "-o",
        zip_path.to_str().unwrap(),
    ]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    assert_eq!(archive.len(), 3);
    for i in 0..archive.len() {
        let mut svg = String::new();
        archive
            .by_index(i)
            .unwrap()
            .read_to_string(&mut svg)
            .unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            texts.contains(&"Mật ong <!--<script> & \"Xuân\" □[2J"),
            "{texts:?}"
        );
    }
    let pdf = env.path("labels.pdf");
    env.ok(&["print", &batch, "-o", pdf.to_str().unwrap()]);
    assert_eq!(decode_pdf(&pdf, 300).len(), 3);
}
