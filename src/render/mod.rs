//! Label printing: QR matrices to PDF sheets and rolls, ZIPs of PNG or SVG files, and CSV,
//! streamed to a file. No database: the caller hands in a source of `(index, serial, uri)`
//! for any sub-range of the labels.
//!
//! Labels are produced in chunks (whole pages) by one worker per core, each minting its
//! chunk's URIs and encoding and drawing them; the calling thread writes the chunks in
//! order as they arrive. At most a few chunks are in memory at once, whatever the count.
//! Everything that can be refused (layout, range, module size, missing glyphs) is checked
//! before the output file is created, and the output is written under a temporary name
//! and renamed only when complete.

pub mod files;
pub mod font;
pub mod label;
pub mod layout;
pub mod output;
pub mod pdf;
pub mod qr;
pub mod zipfile;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;

use crate::domain::batch::IndexRange;

pub use layout::{Layout, Media, presets};
pub use qr::{EcLevel, QrMatrix};

/// One label to print.
#[derive(Debug, Clone)]
pub struct Label {
    /// Index in its batch, from 0.
    pub index: u32,
    pub serial: String,
    pub uri: String,
}

/// Why printing stopped.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Refused input, or a failure with its explanation.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
}

impl From<String> for PrintError {
    fn from(message: String) -> Self {
        PrintError::Invalid(message)
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    PngZip,
    SvgZip,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pdf" => Ok(Format::Pdf),
            "png-zip" => Ok(Format::PngZip),
            "svg-zip" => Ok(Format::SvgZip),
            "csv" => Ok(Format::Csv),
            _ => Err(format!(
                "unknown format '{s}': choose pdf, png-zip, svg-zip or csv"
            )),
        }
    }
}

/// What to print and how.
#[derive(Debug, Clone)]
pub struct PrintJob {
    pub format: Format,
    /// Sheet or roll, for PDF.
    pub layout: Layout,
    /// Printer resolution: of the roll printer for a roll PDF, of the PNG files.
    pub dpi: u32,
    pub ec: EcLevel,
    /// Width of the QR code with its quiet zone in PNG and SVG files, mm; None for the
    /// smallest that keeps whole modules of the least dots a scanner needs at `dpi`.
    pub qr_mm: Option<f64>,
    /// Lines printed under the serial (product name, lot), already in the label's words.
    pub lines: Vec<String>,
    /// Print one calibration page (outlines, rulers, the first labels) instead of the range.
    pub calibration: bool,
}

/// Mints the labels of a sub-range of the job's range, in order, into the vector.
pub type LabelSource<'a> = dyn Fn(IndexRange, &mut Vec<Label>) -> Result<(), String> + Sync + 'a;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub labels: u32,
    /// Pages for PDF, files for ZIPs, lines for CSV.
    pub units: u64,
}

/// Prints `range` of the labels `source` gives to `path`, replacing it only when complete.
pub fn print(
    job: &PrintJob,
    range: IndexRange,
    source: &LabelSource,
    path: &Path,
) -> Result<Summary, PrintError> {
    if range.is_empty() {
        return Err(PrintError::Invalid("the range holds no label".into()));
    }
    if job.format == Format::Pdf && matches!(job.layout.media, Media::Roll { .. }) {
        if job.dpi != 203 && job.dpi != 300 {
            return Err(PrintError::Invalid(format!(
                "roll printers print at 203 or 300 dpi, not {}",
                job.dpi
            )));
        }
    } else if !(72..=2400).contains(&job.dpi) {
        return Err(PrintError::Invalid(format!(
            "{} dpi is not a printer's resolution",
            job.dpi
        )));
    }
    // The first label tells the QR version of the whole batch (its URIs have one length).
    let mut first = Vec::with_capacity(1);
    source(
        IndexRange {
            first: range.first,
            end: range.first + 1,
        },
        &mut first,
    )?;
    let sample = first
        .first()
        .ok_or_else(|| PrintError::Invalid("the range holds no label".into()))?;
    let sample_qr = QrMatrix::encode(&sample.uri, job.ec)?;
    match job.format {
        Format::Pdf => output::pdf(job, range, source, sample, &sample_qr, path),
        Format::PngZip | Format::SvgZip => output::zip(job, range, source, &sample_qr, path),
        Format::Csv => output::csv(range, source, path),
    }
}

/// Runs `render` on chunks of `chunk` labels of `range` on one worker per core and hands
/// the results to `write` in order.
pub fn pipeline<C: Send>(
    range: IndexRange,
    chunk: u32,
    source: &LabelSource,
    render: &(dyn Fn(Vec<Label>) -> Result<C, PrintError> + Sync),
    mut write: impl FnMut(C) -> Result<(), PrintError>,
) -> Result<(), PrintError> {
    let chunk = chunk.max(1);
    let chunks = range.len().div_ceil(chunk);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let next = AtomicU32::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::sync_channel::<(u32, Result<C, PrintError>)>(workers * 2);
        for _ in 0..workers {
            let send = send.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= chunks || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let first = range.first + i * chunk;
                    let part = IndexRange {
                        first,
                        end: (first + chunk).min(range.end),
                    };
                    let mut labels = Vec::with_capacity(part.len() as usize);
                    let result = source(part, &mut labels)
                        .map_err(PrintError::Invalid)
                        .and_then(|()| render(labels));
                    if send.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        let outcome = (|| {
            for (i, result) in receive.iter() {
                waiting.insert(i, result);
                while let Some(result) = waiting.remove(&expected) {
                    write(result?)?;
                    expected += 1;
                }
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        drop(receive);
        outcome
    })
}
