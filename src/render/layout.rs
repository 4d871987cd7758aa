//! Label layouts: A4 decal sheets (presets and custom) and thermal rolls, and where each
//! label's QR code and text lines go. Lengths are millimetres until the PDF writer turns
//! them into points.

use std::fmt;
use std::str::FromStr;

/// A4 portrait, in millimetres.
pub const A4: (f64, f64) = (210.0, 297.0);
/// The dots per inch assumed for an office printer when checking a sheet's module size.
pub const OFFICE_DPI: u32 = 300;
/// Inner padding of a label, mm.
pub const PADDING_MM: f64 = 1.0;

/// The smallest module, in printer dots, that thermal printers scan reliably at `dpi`:
/// 4 dots at 203 dpi (0.5 mm), 5 at 300 dpi (0.42 mm).
pub fn min_dots_per_module(dpi: u32) -> u32 {
    if dpi >= 300 { 5 } else { 4 }
}

/// A grid of labels on a sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub page_mm: (f64, f64),
    pub columns: u32,
    pub rows: u32,
    pub label_mm: (f64, f64),
    /// Left and top margins.
    pub margin_mm: (f64, f64),
    /// Horizontal and vertical gaps between labels.
    pub gap_mm: (f64, f64),
}

/// What a layout prints on.
#[derive(Debug, Clone, PartialEq)]
pub enum Media {
    /// A4 decal sheets from an office printer.
    Sheet(Sheet),
    /// One label per page at an exact size, for a thermal roll printer.
    Roll { label_mm: (f64, f64) },
}

/// A named layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub name: String,
    pub media: Media,
}

impl Layout {
    /// An A4 sheet of `columns` x `rows` labels (sizes in mm, as (x, y) pairs).
    fn a4_sheet(
        name: &str,
        (columns, rows): (u32, u32),
        label_mm: (f64, f64),
        margin_mm: (f64, f64),
        gap_mm: (f64, f64),
    ) -> Layout {
        Layout {
            name: name.to_owned(),
            media: Media::Sheet(Sheet {
                page_mm: A4,
                columns,
                rows,
                label_mm,
                margin_mm,
                gap_mm,
            }),
        }
    }

    /// A roll of labels `label_mm` in size, one a page.
    fn roll(name: &str, label_mm: (f64, f64)) -> Layout {
        Layout {
            name: name.to_owned(),
            media: Media::Roll { label_mm },
        }
    }
}

/// The presets `truyxuat layouts` lists.
pub fn presets() -> Vec<Layout> {
    let sheet = |name, columns, rows, label_mm, margin_mm, gap_mm| {
        Layout::a4_sheet(name, (columns, rows), label_mm, margin_mm, gap_mm)
    };
    let roll = Layout::roll;
    vec![
        sheet("a4-5x8", 5, 8, (38.0, 34.0), (6.0, 5.5), (2.0, 2.0)),
        sheet("a4-4x10", 4, 10, (48.5, 25.4), (5.0, 12.5), (2.0, 2.0)),
        sheet("a4-3x7", 3, 7, (63.5, 38.1), (7.2, 15.15), (2.5, 0.0)),
        roll("roll-30x20", (30.0, 20.0)),
        roll("roll-40x30", (40.0, 30.0)),
        roll("roll-50x30", (50.0, 30.0)),
        roll("roll-50x40", (50.0, 40.0)),
    ]
}

fn number(s: &str, what: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{what} '{s}' is not a length in mm"))
}

fn pair(s: &str, separator: char, what: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(separator)
        .ok_or_else(|| format!("{what} '{s}' must be two numbers separated by '{separator}'"))?;
    Ok((number(a, what)?, number(b, what)?))
}

impl FromStr for Layout {
    type Err = String;

    /// A preset name, or `sheet:COLSxROWS:WxH[:LEFT,TOP[:GAPX,GAPY]]` (A4, mm), or
    /// `roll:WxH` (mm).
    fn from_str(s: &str) -> Result<Layout, String> {
        if let Some(preset) = presets().into_iter().find(|l| l.name == s) {
            return Ok(preset);
        }
        let mut parts = s.split(':');
        let layout = match parts.next() {
            Some("roll") => Layout::roll(s, pair(parts.next().unwrap_or(""), 'x', "label size")?),
            Some("sheet") => {
                let grid = parts
                    .next()
                    .and_then(|g| g.split_once('x'))
                    .and_then(|(c, r)| Some((c.parse::<u32>().ok()?, r.parse::<u32>().ok()?)))
                    .filter(|&(c, r)| c > 0 && r > 0)
                    .ok_or_else(|| format!("layout '{s}': write the grid as COLUMNSxROWS"))?;
                let label_mm = pair(parts.next().unwrap_or(""), 'x', "label size")?;
                let margin_mm = match parts.next() {
                    Some(m) => pair(m, ',', "margins")?,
                    None => (0.0, 0.0),
                };
                let gap_mm = match parts.next() {
                    Some(g) => pair(g, ',', "gaps")?,
                    None => (0.0, 0.0),
                };
                Layout::a4_sheet(s, grid, label_mm, margin_mm, gap_mm)
            }
            _ => {
                return Err(format!(
                    "unknown layout '{s}': `truyxuat layouts` lists the presets; a custom \
                     layout is sheet:COLSxROWS:WxH[:LEFT,TOP[:GAPX,GAPY]] or roll:WxH (mm)"
                ));
            }
        };
        if parts.next().is_some() {
            return Err(format!("layout '{s}' has too many parts"));
        }
        layout.check_fits()?;
        Ok(layout)
    }
}

impl Layout {
    /// The page size in mm: A4 for sheets, the label itself for rolls.
    pub fn page_mm(&self) -> (f64, f64) {
        match &self.media {
            Media::Sheet(sheet) => sheet.page_mm,
            Media::Roll { label_mm } => *label_mm,
        }
    }

    pub fn label_mm(&self) -> (f64, f64) {
        match &self.media {
            Media::Sheet(sheet) => sheet.label_mm,
            Media::Roll { label_mm } => *label_mm,
        }
    }

    pub fn labels_per_page(&self) -> u32 {
        match &self.media {
            Media::Sheet(sheet) => sheet.columns * sheet.rows,
            Media::Roll { .. } => 1,
        }
    }

    /// Top-left corner of label `slot` (0-based, row by row) from the page's top-left, mm.
    pub fn label_origin_mm(&self, slot: u32) -> (f64, f64) {
        match &self.media {
            Media::Sheet(s) => {
                let (column, row) = (slot % s.columns, slot / s.columns);
                (
                    s.margin_mm.0 + f64::from(column) * (s.label_mm.0 + s.gap_mm.0),
                    s.margin_mm.1 + f64::from(row) * (s.label_mm.1 + s.gap_mm.1),
                )
            }
            Media::Roll { .. } => (0.0, 0.0),
        }
    }

    /// Refuses labels that do not fit the page, or labels too small to hold anything.
    pub fn check_fits(&self) -> Result<(), String> {
        let (w, h) = self.label_mm();
        if w < 10.0 || h < 10.0 {
            return Err(format!(
                "layout {}: a label of {w} x {h} mm is too small (10 x 10 mm at least)",
                self.name
            ));
        }
        if let Media::Sheet(s) = &self.media {
            let need_w = s.margin_mm.0
                + f64::from(s.columns) * s.label_mm.0
                + f64::from(s.columns - 1) * s.gap_mm.0;
            let need_h = s.margin_mm.1
                + f64::from(s.rows) * s.label_mm.1
                + f64::from(s.rows - 1) * s.gap_mm.1;
            if need_w > s.page_mm.0 + 1e-9 || need_h > s.page_mm.1 + 1e-9 {
                return Err(format!(
                    "layout {}: {} x {} labels of {} x {} mm need {need_w:.1} x {need_h:.1} mm \
                     with margins and gaps, more than the {} x {} mm sheet",
                    self.name, s.columns, s.rows, w, h, s.page_mm.0, s.page_mm.1
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.media {
            Media::Sheet(s) => write!(
                f,
                "{:<12} A4 sheet, {} x {} labels of {} x {} mm, margins {} / {} mm, gaps {} / {} mm",
                self.name,
                s.columns,
                s.rows,
                s.label_mm.0,
                s.label_mm.1,
                s.margin_mm.0,
                s.margin_mm.1,
                s.gap_mm.0,
                s.gap_mm.1
            ),
            Media::Roll { label_mm } => write!(
                f,
                "{:<12} thermal roll, one {} x {} mm label a page (--dpi 203 or 300)",
                self.name, label_mm.0, label_mm.1
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_fit_and_custom_layouts_parse_or_explain() {
        for layout in presets() {
            layout.check_fits().unwrap();
        }
        let custom: Layout = "sheet:2x3:90x80:10,10:5,5".parse().unwrap();
        assert_eq!(custom.labels_per_page(), 6);
        assert_eq!(custom.label_origin_mm(3), (105.0, 95.0));
        let too_big = "sheet:3x3:90x80".parse::<Layout>().unwrap_err();
        assert!(
            too_big.contains("more than the 210 x 297 mm sheet"),
            "{too_big}"
        );
        assert!(
            "nope"
                .parse::<Layout>()
                .unwrap_err()
                .contains("unknown layout")
        );
        assert_eq!(
            "roll:50x30".parse::<Layout>().unwrap().page_mm(),
            (50.0, 30.0)
        );
    }
}
