//! `truyxuat print` and `truyxuat layouts`: a batch's labels to a PDF, a ZIP of PNG or SVG
//! files, or a CSV, through `render`.

use crate::clock::Stopwatch;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::app;
use crate::config::Settings;
use crate::domain::batch::IndexRange;
use crate::render::{self, EcLevel, Format, Label, Layout, PrintJob};
use crate::store::Store;

/// The options of `truyxuat print`.
#[derive(Args, Debug)]
pub struct PrintArgs {
    /// The batch id.
    pub batch: i64,
    /// pdf, png-zip, svg-zip or csv.
    #[arg(long, default_value = "pdf")]
    pub format: Format,
    /// A preset (`truyxuat layouts`), `sheet:COLSxROWS:WxH[:LEFT,TOP[:GAPX,GAPY]]` or
    /// `roll:WxH`, in mm.
    #[arg(long, default_value = "a4-5x8")]
    pub layout: String,
    /// Only labels A..B (B excluded; indexes from 0), or A..=B.
    #[arg(long)]
    pub range: Option<IndexRange>,
    /// Printer resolution: 203 or 300 for a roll PDF; any for PNG files.
    #[arg(long, default_value_t = 203)]
    pub dpi: u32,
    /// Error correction: M (default) or Q.
    #[arg(long, default_value = "M")]
    pub ec: EcLevel,
    /// Width of the QR code (quiet zone included) in PNG and SVG files, mm; by default the
    /// smallest whole-dot size a scanner reads at --dpi (4 dots a module at 203 dpi).
    #[arg(long)]
    pub qr_mm: Option<f64>,
    /// Print only the code and the serial, without the product name and lot.
    #[arg(long)]
    pub no_text: bool,
    /// Print one calibration page of the layout (outlines, rulers, a few labels).
    #[arg(long)]
    pub calibration: bool,
    /// The file to write; replaced only once complete.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// `truyxuat layouts`
pub fn layouts() {
    for layout in render::presets() {
        println!("{layout}");
    }
    println!("custom       sheet:COLSxROWS:WxH[:LEFT,TOP[:GAPX,GAPY]] (A4, mm) or roll:WxH (mm)");
}

/// `truyxuat print`
pub async fn print(settings: &Settings, store: &dyn Store, args: PrintArgs) -> anyhow::Result<()> {
    let layout: Layout = args.layout.parse().map_err(anyhow::Error::msg)?;
    let keyring = settings.keyring()?;
    let base = settings.label_base()?;
    let printable = app::labels::printable(store, args.batch).await?;
    let range = args
        .range
        .unwrap_or_else(|| printable.batch.all())
        .within(printable.batch.count)
        .map_err(anyhow::Error::msg)?;
    let mut lines = Vec::new();
    if !args.no_text {
        lines.push(printable.product.data.name.clone());
        if let Some(lot) = &printable.lot {
            lines.push(format!("Lô {}", lot.data.code));
        }
    }
    let job = PrintJob {
        format: args.format,
        layout,
        dpi: args.dpi,
        ec: args.ec,
        qr_mm: args.qr_mm,
        lines,
        calibration: args.calibration,
    };
    let source = |part: IndexRange, out: &mut Vec<Label>| -> Result<(), String> {
        printable
            .for_each_uri(
                &keyring,
                &base,
                part,
                |index, serial, uri| -> Result<(), crate::store::StoreError> {
                    out.push(Label {
                        index,
                        serial: serial.as_str().to_owned(),
                        uri: uri.to_owned(),
                    });
                    Ok(())
                },
            )
            .map_err(|e| e.to_string())
    };
    let started = Stopwatch::start();
    let output = args.output.clone();
    let summary = tokio::task::block_in_place(|| render::print(&job, range, &source, &output))
        .with_context(|| format!("nothing written to {}", args.output.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} labels of batch {} written to {} ({} {}) in {seconds:.2} s: {:.0} labels/s",
        summary.labels,
        args.batch,
        args.output.display(),
        summary.units,
        match args.format {
            Format::Pdf => "pages",
            Format::Csv => "lines",
            _ => "files",
        },
        f64::from(summary.labels) / seconds.max(1e-9)
    );
    Ok(())
}
