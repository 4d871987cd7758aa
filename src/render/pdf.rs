//! PDF sheets and rolls, written as they are produced: the font first, then each page and
//! its content as it arrives, with byte offsets recorded, and the page tree, cross-reference
//! table and trailer at the end. Memory holds one offset per object, never the pages.
//!
//! A QR code is an inline 1-bit image mask (`/ImageMask true`), one sample a module: about
//! 250 bytes a label where one rectangle per dark run would take several kilobytes, and the
//! printer's rasteriser scales it without smoothing. On a roll layout the module is a whole
//! number of printer dots and the code starts on a dot boundary.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Label;
use super::font::FontSubset;
use super::label::{LabelGeometry, MM_PER_INCH, grouped};
use super::layout::{Layout, Media};
use super::qr::{QUIET_ZONE, QrMatrix};

const PT_PER_MM: f64 = 72.0 / MM_PER_INCH;
const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const RESOURCES: u32 = 3;
const FONT: u32 = 4;
const INFO: u32 = 9;
const FIRST_PAGE: u32 = 10;

/// Millimetres to points, written with enough digits to keep sizes exact to 1/1000 mm.
fn pt(mm: f64) -> f64 {
    mm * PT_PER_MM
}

/// What every page of a job shares.
pub struct PdfArt {
    pub layout: Layout,
    pub geometry: LabelGeometry,
    pub font: FontSubset,
}

impl PdfArt {
    fn page_height_pt(&self) -> f64 {
        pt(self.layout.page_mm().1)
    }

    /// The content stream of one page holding `labels` (at most a page's worth).
    pub fn page(&self, labels: &[(Label, QrMatrix)]) -> Vec<u8> {
        let mut s = String::with_capacity(labels.len() * 400);
        for (slot, (label, qr)) in labels.iter().enumerate() {
            let origin = self.layout.label_origin_mm(slot as u32);
            self.draw_label(&mut s, origin, label, qr);
        }
        s.into_bytes()
    }

    fn draw_label(&self, s: &mut String, origin: (f64, f64), label: &Label, qr: &QrMatrix) {
        let g = &self.geometry;
        let h = self.page_height_pt();
        let n = qr.size();
        let side = pt(g.module_mm * n as f64);
        let x = pt(origin.0 + g.qr_origin_mm.0 + g.module_mm * QUIET_ZONE as f64);
        let top = origin.1 + g.qr_origin_mm.1 + g.module_mm * QUIET_ZONE as f64;
        let y = h - pt(top) - side;
        let _ = write!(
            s,
            "q {side:.4} 0 0 {side:.4} {x:.4} {y:.4} cm\nBI /W {n} /H {n} /IM true /D [1 0] /F /AHx ID\n"
        );
        for row in 0..n {
            let mut byte = 0u8;
            for col in 0..n {
                if qr.is_dark(col, row) {
                    byte |= 0x80 >> (col % 8);
                }
                if col % 8 == 7 || col == n - 1 {
                    let _ = write!(s, "{byte:02X}");
                    byte = 0;
                }
            }
        }
        s.push_str(">\nEI Q\n");
        let text = |s: &mut String, line: &str, size: f64, baseline_mm: f64| {
            let width = self.font.width(line) / 1000.0 * size;
            let tx = pt(origin.0 + g.label_mm.0 / 2.0) - width / 2.0;
            let ty = h - pt(origin.1 + baseline_mm);
            let _ = write!(s, "BT /F1 {size:.2} Tf {tx:.3} {ty:.3} Td ");
            self.font.encode(line, s);
            s.push_str(" Tj ET\n");
        };
        text(s, &grouped(&label.serial), g.serial_pt, g.baselines_mm[0]);
        for (line, baseline) in g.lines.iter().zip(&g.baselines_mm[1..]) {
            text(s, &line.text, line.size_pt, *baseline);
        }
    }

    /// A calibration page: every label cell outlined, a millimetre ruler along the top and
    /// the left edge, and `labels` drawn in the first cells.
    pub fn calibration_page(&self, labels: &[(Label, QrMatrix)]) -> Vec<u8> {
        let mut s = String::from("0.25 w\n");
        let (pw, ph) = self.layout.page_mm();
        let h = pt(ph);
        for slot in 0..self.layout.labels_per_page() {
            let (x, y) = self.layout.label_origin_mm(slot);
            let (w, lh) = self.layout.label_mm();
            let _ = writeln!(
                s,
                "{:.3} {:.3} {:.3} {:.3} re S",
                pt(x),
                h - pt(y + lh),
                pt(w),
                pt(lh)
            );
        }
        let tick = |mm: u32| match mm {
            m if m % 10 == 0 => 5.0,
            m if m % 5 == 0 => 3.5,
            _ => 2.0,
        };
        for mm in 0..=pw.floor() as u32 {
            let x = pt(f64::from(mm));
            let _ = writeln!(s, "{x:.3} {h:.3} m {x:.3} {:.3} l S", h - pt(tick(mm)));
        }
        for mm in 0..=ph.floor() as u32 {
            let y = h - pt(f64::from(mm));
            let _ = writeln!(s, "0 {y:.3} m {:.3} {y:.3} l S", pt(tick(mm)));
        }
        let numbers = |s: &mut String, text: &str, x: f64, y: f64| {
            let _ = write!(s, "BT /F1 5 Tf {x:.3} {y:.3} Td ");
            self.font.encode(text, s);
            s.push_str(" Tj ET\n");
        };
        for cm in (10..=pw.floor() as u32)
            .step_by(10)
            .filter(|mm| mm % 10 == 0)
        {
            numbers(
                &mut s,
                &cm.to_string(),
                pt(f64::from(cm)) + 1.0,
                h - pt(6.5),
            );
        }
        for cm in (10..=ph.floor() as u32).step_by(10) {
            numbers(
                &mut s,
                &cm.to_string(),
                pt(6.0),
                h - pt(f64::from(cm)) - 1.5,
            );
        }
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.page(labels));
        out
    }

    /// The texts whose glyphs a job needs besides the labels' own lines.
    pub fn fixed_texts() -> &'static [&'static str] {
        &["0123456789ABCDEFGHJKMNPQRSTVWXYZ-…"]
    }
}

/// Compresses a page's content stream (zlib, fast level: the pages are mostly hex digits of
/// QR modules, which shrink to about a third), on the worker that drew it.
pub fn deflate(content: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(content.len() / 2),
        flate2::Compression::fast(),
    );
    encoder.write_all(content)?;
    encoder.finish()
}

/// Counts bytes as they go, for the cross-reference table.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A PDF written front to back.
pub struct PdfWriter<W: Write> {
    out: Counting<W>,
    /// Byte offset of object `i` at index `i` (0 for the free object 0).
    offsets: Vec<u64>,
    pages: u32,
    media_box: String,
}

impl<W: Write> PdfWriter<W> {
    /// Writes the header, the font and the shared resources.
    pub fn start(out: W, art: &PdfArt) -> io::Result<PdfWriter<W>> {
        let (w, h) = art.layout.page_mm();
        let mut writer = PdfWriter {
            out: Counting {
                inner: out,
                written: 0,
            },
            offsets: vec![0; FIRST_PAGE as usize],
            pages: 0,
            media_box: format!("[0 0 {:.4} {:.4}]", pt(w), pt(h)),
        };
        writer.out.write_all(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
        let resources = format!("<< /Font << /F1 {FONT} 0 R >> >>");
        writer.object(RESOURCES, resources.as_bytes())?;
        for (id, body) in art.font.pdf_objects(FONT) {
            writer.object(id, &body)?;
        }
        let kind = match art.layout.media {
            Media::Sheet(_) => "sheet",
            Media::Roll { .. } => "roll",
        };
        let info = format!(
            "<< /Producer (truyxuat {}) /Title (labels, layout {} {kind}) >>",
            env!("CARGO_PKG_VERSION"),
            art.layout.name.replace(['(', ')', '\\'], "")
        );
        writer.object(INFO, info.as_bytes())?;
        Ok(writer)
    }

    fn object(&mut self, id: u32, body: &[u8]) -> io::Result<()> {
        let index = id as usize;
        if self.offsets.len() <= index {
            self.offsets.resize(index + 1, 0);
        }
        self.offsets[index] = self.out.written;
        writeln!(self.out, "{id} 0 obj")?;
        self.out.write_all(body)?;
        self.out.write_all(b"\nendobj\n")
    }

    /// Appends a page with this content stream, compressed by `deflate`.
    pub fn page(&mut self, content: &[u8]) -> io::Result<()> {
        let page = FIRST_PAGE + 2 * self.pages;
        let stream = page + 1;
        let dict = format!(
            "<< /Type /Page /Parent {PAGES} 0 R /MediaBox {} /Resources {RESOURCES} 0 R \
             /Contents {stream} 0 R >>",
            self.media_box
        );
        self.object(page, dict.as_bytes())?;
        let mut body = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            content.len()
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(b"\nendstream");
        self.object(stream, &body)?;
        self.pages += 1;
        Ok(())
    }

    /// Writes the page tree, catalog, cross-reference table and trailer; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let mut kids = String::with_capacity(self.pages as usize * 12);
        for i in 0..self.pages {
            let _ = write!(kids, "{} 0 R ", FIRST_PAGE + 2 * i);
        }
        let tree = format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", self.pages);
        self.object(PAGES, tree.as_bytes())?;
        let catalog = format!("<< /Type /Catalog /Pages {PAGES} 0 R >>");
        self.object(CATALOG, catalog.as_bytes())?;
        let xref = self.out.written;
        let count = self.offsets.len();
        write!(self.out, "xref\n0 {count}\n0000000000 65535 f \n")?;
        let mut out = io::BufWriter::with_capacity(1 << 16, &mut self.out);
        for &offset in &self.offsets[1..] {
            if offset == 0 {
                out.write_all(b"0000000000 65535 f \n")?;
            } else {
                writeln!(out, "{offset:010} 00000 n ")?;
            }
        }
        out.flush()?;
        drop(out);
        write!(
            self.out,
            "trailer\n<< /Size {count} /Root {CATALOG} 0 R /Info {INFO} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        )?;
        self.out.flush()?;
        Ok(self.out.inner)
    }
}
