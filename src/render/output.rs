//! Each format's print run: the checks that need the first label, the file under a
//! temporary name, the pipeline, and the rename once the file is complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::files::{self, CSV_HEAD};
use super::font::FontSubset;
use super::label::LabelGeometry;
use super::layout::Media;
use super::pdf::{PdfArt, PdfWriter, deflate};
use super::zipfile::ZipStream;
use super::{Format, Label, LabelSource, PrintError, PrintJob, QrMatrix, Summary, pipeline};
use crate::domain::batch::IndexRange;

/// Labels per chunk of work: large enough to keep the workers busy, small enough that a
/// few chunks in memory stay small.
const CHUNK_LABELS: u32 = 480;

/// At most `CHUNK_LABELS`, and small enough that a short run still gives every worker
/// several chunks (three chunks on two workers would leave one idle a third of the time).
fn chunk_for(range: IndexRange) -> u32 {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    range.len().div_ceil(workers * 8).clamp(1, CHUNK_LABELS)
}

/// A file written under a temporary name in the target's folder and renamed over the
/// target by `commit`; dropped uncommitted, it is removed.
pub struct PendingFile {
    temporary: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl PendingFile {
    pub fn create(target: &Path) -> Result<(PendingFile, File), PrintError> {
        let name = target.file_name().ok_or_else(|| {
            PrintError::Invalid(format!("{} is not a file name", target.display()))
        })?;
        let folder = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(PrintError::Invalid(format!(
                "folder {} does not exist",
                folder.display()
            )));
        }
        let temporary = folder.join(format!(
            ".{}.{}.partial",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&temporary).map_err(|e| {
            PrintError::Invalid(format!("cannot create {}: {e}", temporary.display()))
        })?;
        Ok((
            PendingFile {
                temporary,
                target: target.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    /// Flushes `file` to disk and gives it the target's name.
    pub fn commit(mut self, file: File) -> Result<(), PrintError> {
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.temporary, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

fn encode_all(labels: Vec<Label>, job: &PrintJob) -> Result<Vec<(Label, QrMatrix)>, PrintError> {
    labels
        .into_iter()
        .map(|l| {
            let qr = QrMatrix::encode(&l.uri, job.ec)?;
            Ok((l, qr))
        })
        .collect()
}

fn buffered(file: &File) -> BufWriter<&File> {
    BufWriter::with_capacity(1 << 20, file)
}

/// A PDF of sheets or roll labels, or its calibration page.
pub fn pdf(
    job: &PrintJob,
    range: IndexRange,
    source: &LabelSource,
    sample: &Label,
    sample_qr: &QrMatrix,
    path: &Path,
) -> Result<Summary, PrintError> {
    let mut texts: Vec<&str> = PdfArt::fixed_texts().to_vec();
    texts.extend(job.lines.iter().map(String::as_str));
    let font = FontSubset::new(texts)?;
    let geometry = LabelGeometry::new(
        &job.layout,
        job.dpi,
        sample_qr,
        &sample.serial,
        &font,
        &job.lines,
    )?;
    let art = PdfArt {
        layout: job.layout.clone(),
        geometry,
        font,
    };
    let per_page = job.layout.labels_per_page();
    if job.calibration {
        let count = match job.layout.media {
            Media::Sheet(ref s) => s.columns.min(range.len()),
            Media::Roll { .. } => 1,
        };
        let mut labels = Vec::new();
        source(
            IndexRange {
                first: range.first,
                end: range.first + count,
            },
            &mut labels,
        )?;
        let content = deflate(&art.calibration_page(&encode_all(labels, job)?))?;
        let (pending, file) = PendingFile::create(path)?;
        let mut writer = PdfWriter::start(buffered(&file), &art)?;
        writer.page(&content)?;
        writer.finish()?.flush()?;
        pending.commit(file)?;
        return Ok(Summary {
            labels: count,
            units: 1,
        });
    }
    let chunk = chunk_for(range).div_ceil(per_page) * per_page;
    let render = |labels: Vec<Label>| -> Result<Vec<Vec<u8>>, PrintError> {
        let encoded = encode_all(labels, job)?;
        encoded
            .chunks(per_page as usize)
            .map(|page| Ok(deflate(&art.page(page))?))
            .collect()
    };
    let (pending, file) = PendingFile::create(path)?;
    let mut writer = PdfWriter::start(buffered(&file), &art)?;
    let mut pages = 0u64;
    pipeline(range, chunk, source, &render, |contents| {
        for content in contents {
            writer.page(&content)?;
            pages += 1;
        }
        Ok(())
    })?;
    writer.finish()?.flush()?;
    pending.commit(file)?;
    Ok(Summary {
        labels: range.len(),
        units: pages,
    })
}

/// A ZIP of one PNG or SVG file per label.
pub fn zip(
    job: &PrintJob,
    range: IndexRange,
    source: &LabelSource,
    sample_qr: &QrMatrix,
    path: &Path,
) -> Result<Summary, PrintError> {
    let dots = files::dots_per_module(sample_qr.side_with_quiet_zone(), job.qr_mm, job.dpi)?;
    let qr_mm =
        sample_qr.side_with_quiet_zone() as f64 * f64::from(dots) * 25.4 / f64::from(job.dpi);
    let lines: Vec<String> = job
        .lines
        .iter()
        .map(|l| super::font::normalize(l))
        .collect();
    let render = |labels: Vec<Label>| -> Result<Vec<(Label, Vec<u8>)>, PrintError> {
        encode_all(labels, job)?
            .into_iter()
            .map(|(label, qr)| {
                let bytes = match job.format {
                    Format::SvgZip => files::svg(&qr, &label, &lines, qr_mm).into_bytes(),
                    _ => files::png(&qr, dots, job.dpi)?,
                };
                Ok((label, bytes))
            })
            .collect()
    };
    let extension = if job.format == Format::SvgZip {
        "svg"
    } else {
        "png"
    };
    let (pending, file) = PendingFile::create(path)?;
    let mut zip = ZipStream::new(buffered(&file), extension);
    let mut count = 0u64;
    pipeline(range, chunk_for(range), source, &render, |entries| {
        for (label, bytes) in entries {
            zip.add(label.index, &label.serial, &bytes)?;
            count += 1;
        }
        Ok(())
    })?;
    zip.finish()?.flush()?;
    pending.commit(file)?;
    Ok(Summary {
        labels: range.len(),
        units: count,
    })
}

/// index, serial, URI: UTF-8 with a byte-order mark, CRLF lines, as Excel expects.
pub fn csv(range: IndexRange, source: &LabelSource, path: &Path) -> Result<Summary, PrintError> {
    let (pending, file) = PendingFile::create(path)?;
    let mut out = buffered(&file);
    out.write_all(CSV_HEAD.as_bytes())?;
    let render = |labels: Vec<Label>| -> Result<String, PrintError> {
        let mut text = String::with_capacity(labels.len() * 80);
        for label in &labels {
            files::csv_line(label, &mut text);
        }
        Ok(text)
    };
    pipeline(range, CHUNK_LABELS * 4, source, &render, |text| {
        out.write_all(text.as_bytes())?;
        Ok(())
    })?;
    out.flush()?;
    drop(out);
    pending.commit(file)?;
    Ok(Summary {
        labels: range.len(),
        units: u64::from(range.len()),
    })
}
