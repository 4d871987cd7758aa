//! Where the parts of one label go: the QR code with its quiet zone, then the serial, the
//! product name and the lot line under it. Computed once per print job (every label of a
//! batch has a URI of the same length, so the same QR version), in millimetres from the
//! label's top-left corner.

use super::font::{FontSubset, normalize};
use super::layout::{Layout, Media, OFFICE_DPI, min_dots_per_module};
use super::qr::QrMatrix;

pub const MM_PER_INCH: f64 = 25.4;
/// Largest and smallest text size, points.
const MAX_TEXT_PT: f64 = 6.0;
const MIN_TEXT_PT: f64 = 4.0;
const LINE_SPACING: f64 = 1.15;
const PT_PER_MM: f64 = 72.0 / MM_PER_INCH;

/// The serial as printed under the code: groups of four, `0F9Q-GPN3-6EE7-DAMV-R5C5`.
pub fn grouped(serial: &str) -> String {
    let mut out = String::with_capacity(serial.len() + serial.len() / 4);
    for (i, c) in serial.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// One line of text shared by every label of the job (product name, lot).
#[derive(Debug, Clone)]
pub struct FixedLine {
    pub text: String,
    pub size_pt: f64,
}

/// The geometry of a label, shared by all labels of a job.
#[derive(Debug, Clone)]
pub struct LabelGeometry {
    /// Modules on a side including the quiet zone.
    pub modules: usize,
    pub module_mm: f64,
    /// Top-left of the QR's quiet zone.
    pub qr_origin_mm: (f64, f64),
    /// Printer dots per module, for roll layouts (exact); None for sheets.
    pub dots_per_module: Option<u32>,
    pub serial_pt: f64,
    /// Baselines of the text lines, mm from the label's top: the serial first.
    pub baselines_mm: Vec<f64>,
    pub lines: Vec<FixedLine>,
    pub label_mm: (f64, f64),
}

fn fit_size(font: &FontSubset, text: &str, width_mm: f64) -> f64 {
    let em = font.width(text) / 1000.0;
    if em <= 0.0 {
        return MAX_TEXT_PT;
    }
    (width_mm * PT_PER_MM / em).min(MAX_TEXT_PT)
}

/// Shortens `text` with an ellipsis until it fits `width_mm` at the smallest size.
fn shorten(font: &FontSubset, text: &str, width_mm: f64) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        let candidate: String = chars.iter().collect::<String>() + "…";
        if font.width(&candidate) / 1000.0 * MIN_TEXT_PT <= width_mm * PT_PER_MM {
            return candidate;
        }
        chars.pop();
    }
    String::new()
}

impl LabelGeometry {
    /// Lays out a label of `layout` for symbols like `sample`, with the extra `lines`.
    /// Refuses a QR code whose modules would be too small to scan.
    pub fn new(
        layout: &Layout,
        dpi: u32,
        sample: &QrMatrix,
        sample_serial: &str,
        font: &FontSubset,
        lines: &[String],
    ) -> Result<LabelGeometry, String> {
        let (w, h) = layout.label_mm();
        let padding = super::layout::PADDING_MM;
        let text_w = w - 2.0 * padding;
        let serial_pt = fit_size(font, &grouped(sample_serial), text_w).max(MIN_TEXT_PT);
        let lines: Vec<FixedLine> = lines
            .iter()
            .map(|l| normalize(l))
            .filter(|l| !l.trim().is_empty())
            .map(|text| {
                let size_pt = fit_size(font, &text, text_w);
                if size_pt >= MIN_TEXT_PT {
                    FixedLine { text, size_pt }
                } else {
                    FixedLine {
                        text: shorten(font, &text, text_w),
                        size_pt: MIN_TEXT_PT,
                    }
                }
            })
            .collect();
        let line_mm = |pt: f64| pt * LINE_SPACING / PT_PER_MM;
        let text_h = line_mm(serial_pt) + lines.iter().map(|l| line_mm(l.size_pt)).sum::<f64>();
        let modules = sample.side_with_quiet_zone();
        let side_max = w.min(h - text_h - padding);
        let dot_mm = MM_PER_INCH / f64::from(dpi);
        let (module_mm, dots_per_module) = match layout.media {
            Media::Roll { .. } => {
                let dots = (side_max / dot_mm / modules as f64).floor().max(0.0) as u32;
                let least = min_dots_per_module(dpi);
                if dots < least {
                    return Err(format!(
                        "layout {}: a {modules}-module QR code fits at {dots} dots a module at \
                         {dpi} dpi, fewer than the {least} a scanner needs: use a larger label",
                        layout.name
                    ));
                }
                (f64::from(dots) * dot_mm, Some(dots))
            }
            Media::Sheet(_) => {
                let module_mm = side_max / modules as f64;
                let dots = module_mm / (MM_PER_INCH / f64::from(OFFICE_DPI));
                if dots < 4.0 {
                    return Err(format!(
                        "layout {}: a {modules}-module QR code would have modules of \
                         {module_mm:.2} mm, {dots:.1} dots at {OFFICE_DPI} dpi, fewer than 4: \
                         use a larger label or fewer text lines",
                        layout.name
                    ));
                }
                (module_mm, None)
            }
        };
        let side = module_mm * modules as f64;
        let block = side + text_h;
        let (mut x, mut y) = ((w - side) / 2.0, ((h - block) / 2.0).max(0.0));
        if dots_per_module.is_some() {
            // Whole dots from the page's corner, so that every module edge is a dot edge.
            x = (x / dot_mm).floor() * dot_mm;
            y = (y / dot_mm).floor() * dot_mm;
        }
        let mut baselines_mm = Vec::new();
        let mut top = y + side;
        for pt in std::iter::once(serial_pt).chain(lines.iter().map(|l| l.size_pt)) {
            // Baseline at about 0.85 of the line's height below its top.
            baselines_mm.push(top + pt * 0.95 / PT_PER_MM);
            top += line_mm(pt);
        }
        Ok(LabelGeometry {
            modules,
            module_mm,
            qr_origin_mm: (x, y),
            dots_per_module,
            serial_pt,
            baselines_mm,
            lines,
            label_mm: (w, h),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_printed_in_groups_of_four() {
        assert_eq!(grouped("0F9QGPN36EE7DAMVR5C5"), "0F9Q-GPN3-6EE7-DAMV-R5C5");
    }
}
