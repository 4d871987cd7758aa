//! One file per label (1-bit PNG at a chosen dpi, or SVG) for a ZIP, and the CSV
//! list of a batch. No database here: labels come in, bytes go out.

use std::fmt::Write as _;

use super::label::{MM_PER_INCH, grouped};
use super::layout::min_dots_per_module;
use super::qr::{QUIET_ZONE, QrMatrix};
use super::{Label, PrintError};

/// Printer dots a module for a QR of `modules` (quiet zone included) about `qr_mm` wide
/// at `dpi`; refused below what a scanner reads at that resolution.
pub fn dots_per_module(modules: usize, qr_mm: Option<f64>, dpi: u32) -> Result<u32, String> {
    let least = min_dots_per_module(dpi);
    let Some(qr_mm) = qr_mm else {
        return Ok(least);
    };
    let dots = (qr_mm / MM_PER_INCH * f64::from(dpi) / modules as f64).floor();
    if dots < f64::from(least) {
        return Err(format!(
            "a {modules}-module QR code {qr_mm} mm wide has {dots} dots a module at {dpi} dpi, \
             fewer than {least}: use a larger --qr-mm or a higher --dpi"
        ));
    }
    Ok(dots as u32)
}

/// A 1-bit greyscale PNG of the code with its quiet zone, `dots` pixels a module, with the
/// resolution recorded so that printing at 100 % keeps every module whole.
pub fn png(qr: &QrMatrix, dots: u32, dpi: u32) -> Result<Vec<u8>, PrintError> {
    let dots = dots as usize;
    let side = qr.side_with_quiet_zone() * dots;
    let stride = side.div_ceil(8);
    let mut pixels = vec![0xFFu8; stride * side];
    for y in 0..qr.size() {
        for (start, len) in qr.dark_runs(y) {
            for py in (y + QUIET_ZONE) * dots..(y + QUIET_ZONE + 1) * dots {
                let row = &mut pixels[py * stride..(py + 1) * stride];
                for px in (start + QUIET_ZONE) * dots..(start + len + QUIET_ZONE) * dots {
                    row[px / 8] &= !(0x80 >> (px % 8));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(pixels.len() / 4);
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let per_metre = (f64::from(dpi) / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let png_error = |e: png::EncodingError| PrintError::Invalid(format!("PNG encoding: {e}"));
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// `text` as XML character data: markup characters escaped, and the characters XML 1.0
/// cannot hold at all (C0 controls, U+FFFE, U+FFFF) left out, so the SVG stays well-formed.
fn escape_xml(text: &str) -> String {
    let allowed = |c: &char| !matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F' | '\u{FFFE}' | '\u{FFFF}');
    text.chars()
        .filter(allowed)
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG of the code (one path, in module units) with the serial and `lines` under it,
/// `qr_mm` wide.
pub fn svg(qr: &QrMatrix, label: &Label, lines: &[String], qr_mm: f64) -> String {
    let side = qr.side_with_quiet_zone();
    let text_lines = 1 + lines.len();
    let height = side + 3 * text_lines;
    let mm = qr_mm / side as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.3}mm\" height=\"{:.3}mm\" \
         viewBox=\"0 0 {side} {height}\" shape-rendering=\"crispEdges\">\n\
         <rect width=\"{side}\" height=\"{height}\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
        qr_mm,
        height as f64 * mm
    );
    for y in 0..qr.size() {
        for (x, len) in qr.dark_runs(y) {
            let _ = write!(s, "M{} {}h{len}v1h-{len}z", x + QUIET_ZONE, y + QUIET_ZONE);
        }
    }
    s.push_str("\"/>\n");
    let texts = std::iter::once(grouped(&label.serial)).chain(lines.iter().cloned());
    for (i, text) in texts.enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"2.4\" \
             text-anchor=\"middle\">{}</text>",
            side as f64 / 2.0,
            side + 3 * i + 2,
            escape_xml(&text)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The first bytes of the CSV: a byte-order mark, so that Excel reads UTF-8, and the header.
pub const CSV_HEAD: &str = "\u{FEFF}index,serial,uri\r\n";

/// One CSV line (serials and URIs hold no comma or quote; quoted all the same if they did).
pub fn csv_line(label: &Label, out: &mut String) {
    let field = |v: &str| {
        if v.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    let _ = write!(
        out,
        "{},{},{}\r\n",
        label.index,
        field(&label.serial),
        field(&label.uri)
    );
}
