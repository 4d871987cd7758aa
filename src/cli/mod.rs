//! The command line. Each command opens the store named by the settings and calls the
//! library; errors end the process with a message and a non-zero exit.

mod audit;
mod labels;
mod people;
mod print;
mod sheets;
pub mod terminal;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::app::{self, App, Caller};
use crate::clock::{Clock, SystemClock};
use crate::config::{Settings, redact_url};
use crate::domain::batch::IndexRange;
use crate::domain::bundle::BundleInput;
use crate::store::{self, ListQuery, Store};
use crate::web;

/// truyxuat: product traceability with signed QR labels.
#[derive(Parser, Debug)]
#[command(name = "truyxuat", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the public pages, the console and the JSON API.
    Serve {
        /// Load the demo data first if the registry is empty.
        #[arg(long)]
        demo: bool,
        /// Wait this long between demo rows (for crash tests).
        #[arg(long, hide = true)]
        demo_pace_ms: Option<u64>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo registry (a few cooperatives, a dozen products) if the registry is empty.
    Demo {
        /// Wait this long between rows (for crash tests).
        #[arg(long, hide = true)]
        pace_ms: Option<u64>,
    },
    /// List products: id, GTIN, name and lot codes.
    Products {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only products matching these words (diacritics and case ignored).
        #[arg(long)]
        search: Option<String>,
    },
    /// Import records: a JSON bundle (organizations, products, certifications and lots;
    /// see `assets/demo.json`), or a producer's products and lots from an XLSX or CSV file
    /// made from `truyxuat template`. All or none unless --valid-rows-only.
    Import {
        /// The file: .json, .xlsx or .csv.
        file: PathBuf,
        /// Check the file and report, without storing anything.
        #[arg(long)]
        dry_run: bool,
        /// XLSX/CSV: store the rows that check out and report the others.
        #[arg(long)]
        valid_rows_only: bool,
        /// XLSX/CSV: the producer whose records these are (by default, the one producer
        /// --as belongs to).
        #[arg(long)]
        producer: Option<i64>,
        /// Act as this person (their login), with their roles, instead of as the operator.
        #[arg(long = "as", value_name = "LOGIN")]
        as_login: Option<String>,
    },
    /// Write the spreadsheet template (products and lots, with dropdowns) to fill in Excel.
    Template {
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Manage the label signing keys (kept in TRUYXUAT_KEY_DIR, never in the database).
    #[command(subcommand)]
    Keys(labels::KeysCommand),
    /// Mint a batch of signed labels; prints the batch id.
    Mint {
        /// The product's id (see `truyxuat products`).
        #[arg(long)]
        product: i64,
        /// How many labels.
        #[arg(long)]
        count: u32,
        /// Mint for this lot of the product (printed in the URI) and activate at once.
        #[arg(long)]
        lot: Option<String>,
        /// compact (verified online) or offline (with an Ed25519 signature).
        #[arg(long, default_value = "compact")]
        profile: String,
    },
    /// Print the URIs of a batch, one a line.
    Labels {
        batch: i64,
        /// Only labels A..B (B excluded; indexes from 0), or A..=B.
        #[arg(long)]
        range: Option<IndexRange>,
    },
    /// Print a batch's labels: PDF sheets or rolls, a ZIP of PNG or SVG files, or a CSV.
    Print(print::PrintArgs),
    /// List the label layouts `print --layout` knows.
    Layouts,
    /// Tie labels of a batch to a lot: they are then on a product.
    Activate {
        batch: i64,
        /// The lot code of the batch's product.
        #[arg(long)]
        lot: String,
        #[arg(long)]
        range: Option<IndexRange>,
    },
    /// Void labels of a batch (misprinted, lost, destroyed).
    Void {
        batch: i64,
        #[arg(long)]
        range: Option<IndexRange>,
    },
    /// Recall a lot: every label tied to it then reads as recalled.
    Recall {
        #[arg(long)]
        product: i64,
        #[arg(long)]
        lot: String,
        /// Why, as shoppers will read it.
        #[arg(long)]
        reason: String,
    },
    /// Check a label URI; exits 0 only for a genuine label.
    Verify {
        uri: String,
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
    /// People who sign in: add, list, disable, enable, make a password reset link.
    #[command(subcommand)]
    Users(people::UsersCommand),
    /// Print a one-time link (7 days) inviting someone to a role.
    Invite(people::RoleArgs),
    /// API tokens for integrations: create (printed once), list, revoke.
    #[command(subcommand)]
    Tokens(people::TokensCommand),
    /// The audit log as a transparency log: verify it, sign a checkpoint, prove it grew.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { demo, demo_pace_ms } => {
            let store = open(&settings).await?;
            if demo {
                let app = App::new(store.clone(), clock.clone()).with_base_url(settings.base_url());
                load_demo(&app, demo_pace_ms).await?;
            }
            let listener = web::server::bind(settings.bind)
                .with_context(|| format!("cannot listen on {}", settings.bind))?;
            let address = listener.local_addr()?;
            tracing::info!(
                %address,
                base_url = %settings.base_url(),
                database = %redact_url(&settings.database_url),
                "serving"
            );
            let keyring = published_keyring(&settings, &*store, clock.now()).await?;
            let state = web::AppState::new(store, settings, clock, keyring);
            web::serve(listener, state).await?;
        }
        Command::Migrate => {
            open(&settings).await?;
            println!(
                "migrations applied to {}",
                redact_url(&settings.database_url)
            );
        }
        Command::Demo { pace_ms } => {
            let store = open(&settings).await?;
            load_demo(
                &App::new(store, clock).with_base_url(settings.base_url()),
                pace_ms,
            )
            .await?;
        }
        Command::Products { json, search } => {
            let store = open(&settings).await?;
            print_products(&*store, search, json).await?;
        }
        Command::Import {
            file,
            dry_run,
            valid_rows_only,
            producer,
            as_login,
        } => {
            let store = open(&settings).await?;
            let app = App::new(store, clock).with_base_url(settings.base_url());
            let caller = sheets::caller(&app, as_login.as_deref()).await?;
            let options = app::imports::Options {
                dry_run,
                valid_rows_only,
            };
            match file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
            {
                Some(e) if e == "xlsx" || e == "csv" => {
                    sheets::import(&app, &caller, &file, producer, options).await?;
                }
                _ => import(&app, &caller, &file, dry_run).await?,
            }
        }
        Command::Audit(command) => {
            let app = App::new(open(&settings).await?, clock);
            let key = audit::key(&settings)?;
            audit::run(&app, &key, command).await?;
        }
        Command::Template { output } => {
            // The template lists the authorities in this truyxuat as issuers.
            let app = App::new(open(&settings).await?, clock);
            sheets::template(&app, &output).await?;
        }
        Command::Keys(command) => {
            let store = open(&settings).await?;
            // A key from the environment is listed as published: dated from when this
            // service first saw it, which the database records.
            let keyring = published_keyring(&settings, &*store, clock.now()).await?;
            let now = clock.now();
            labels::keys(&settings, &App::new(store, clock), keyring, command, now).await?
        }
        Command::Mint {
            product,
            count,
            lot,
            profile,
        } => {
            let store = open(&settings).await?;
            let app = App::new(store, clock);
            labels::mint(&settings, &app, product, count, lot, &profile).await?;
        }
        Command::Labels { batch, range } => {
            let store = open(&settings).await?;
            labels::list(&settings, &*store, batch, range).await?;
        }
        Command::Print(args) => {
            let store = open(&settings).await?;
            print::print(&settings, &*store, args).await?;
        }
        Command::Layouts => print::layouts(),
        Command::Activate { batch, lot, range } => {
            let app = App::new(open(&settings).await?, clock);
            let change = app::labels::activate(&app, &Caller::cli(), batch, &lot, range).await?;
            eprintln!(
                "labels {} of batch {batch} activated with lot {lot}",
                change.range
            );
        }
        Command::Void { batch, range } => {
            let app = App::new(open(&settings).await?, clock);
            let change = app::labels::void(&app, &Caller::cli(), batch, range).await?;
            eprintln!("labels {} of batch {batch} voided", change.range);
        }
        Command::Recall {
            product,
            lot,
            reason,
        } => {
            let app = App::new(open(&settings).await?, clock);
            app::labels::recall(&app, &Caller::cli(), product, &lot, &reason).await?;
            eprintln!("lot {lot} of product {product} recalled");
        }
        Command::Verify { uri, json } => {
            let store = open(&settings).await?;
            labels::verify(&settings, &*store, &uri, json).await?;
        }
        Command::Users(command) => {
            let app = App::new(open(&settings).await?, clock);
            people::users(&app, &settings.base_url(), command).await?;
        }
        Command::Invite(role) => {
            let app = App::new(open(&settings).await?, clock);
            people::invite(&app, &settings.base_url(), role).await?;
        }
        Command::Tokens(command) => {
            let app = App::new(open(&settings).await?, clock);
            people::tokens(&app, command).await?;
        }
    }
    Ok(())
}

/// The signing keys as `keys.json` publishes them. A key given in the environment has no
/// record of its own, so it is dated from when this service first saw it.
async fn published_keyring(
    settings: &Settings,
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<crate::labelcode::Keyring> {
    let keyring = settings.keyring()?;
    let Some(seed) = &settings.signing_key else {
        return Ok(keyring);
    };
    let kid = keyring
        .active()
        .map(|k| k.kid().to_owned())
        .context("TRUYXUAT_SIGNING_KEY gives no key")?;
    let first_seen = store.key_first_seen(&kid, now).await?;
    crate::labelcode::keystore::keyring_from_env(seed.expose(), first_seen)
        .context("TRUYXUAT_SIGNING_KEY is not a key")
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    store::open(&settings.database_url)
        .await
        .with_context(|| format!("cannot open {}", redact_url(&settings.database_url)))
}

async fn load_demo(app: &App, pace_ms: Option<u64>) -> anyhow::Result<()> {
    if app.store.count_organizations().await? > 0 {
        eprintln!("the registry already has data: demo data not loaded");
        return Ok(());
    }
    let bundle = crate::demo::bundle()?;
    eprintln!("loading demo data");
    let pace = pace_ms.map(Duration::from_millis);
    let summary = app::registry::import(app, &Caller::cli(), &bundle, pace).await?;
    eprintln!(
        "demo data loaded: {} organizations, {} products, {} certifications, {} lots",
        summary.organizations, summary.products, summary.certifications, summary.lots
    );
    let events = crate::demo::events(app).await?;
    eprintln!("demo events captured: {events} (longan from Hưng Yên to Hà Nội, tea from Lâm Đồng)");
    // A password of its own for each demo database, shown this once.
    let password = crate::domain::secrets::random_secret(&mut rand::rngs::OsRng, 10);
    crate::demo::people(app, &password).await?;
    eprintln!("demo people, each with the password {password} (shown only now):");
    for (login, name, _, role) in crate::demo::PEOPLE {
        eprintln!("  {login:<28} {role:<9} {name}");
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct ProductLine {
    id: i64,
    gtin: Option<String>,
    name: String,
    producer: String,
    lots: Vec<String>,
}

async fn print_products(
    store: &dyn Store,
    search: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    let mut offset = 0;
    loop {
        let page = ListQuery {
            search: search.clone(),
            limit: Some(ListQuery::MAX_LIMIT),
            offset: Some(offset),
        };
        let products = store.list_products(&page, None).await?;
        if products.is_empty() {
            break;
        }
        offset += products.len() as i64;
        for p in products {
            let lots = store
                .list_lots(
                    &ListQuery {
                        limit: Some(ListQuery::MAX_LIMIT),
                        ..Default::default()
                    },
                    Some(p.id),
                )
                .await?;
            lines.push(ProductLine {
                id: p.id,
                gtin: p.data.gtin.map(|g| g.as_gtin14()),
                name: p.data.name,
                producer: p.producer_name,
                lots: lots.into_iter().map(|l| l.data.code).collect(),
            });
        }
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            terminal::safe_json(serde_json::to_string_pretty(&lines)?)
        )?;
    } else {
        writeln!(out, "{:>5}  {:<14}  {:<40}  LOTS", "ID", "GTIN", "NAME")?;
        for l in &lines {
            writeln!(
                out,
                "{:>5}  {:<14}  {:<40}  {}",
                l.id,
                l.gtin.as_deref().unwrap_or("-"),
                terminal::safe(&l.name),
                terminal::safe(&l.lots.join(", "))
            )?;
        }
    }
    Ok(())
}

async fn import(
    app: &App,
    caller: &Caller,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let input: BundleInput = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid import file", file.display()))?;
    let bundle = match input.validate() {
        Ok(b) => b,
        Err(invalid) => bail!("nothing imported: {invalid}"),
    };
    if dry_run {
        println!(
            "{} checks out: {} organizations, {} products, {} certifications, {} lots (nothing stored)",
            file.display(),
            bundle.organizations.len(),
            bundle.products.len(),
            bundle.certifications.len(),
            bundle.lots.len()
        );
        return Ok(());
    }
    let summary = app::registry::import(app, caller, &bundle, None)
        .await
        .map_err(|e| anyhow::anyhow!("nothing imported: {e}"))?;
    println!(
        "imported {} organizations, {} products, {} certifications, {} lots",
        summary.organizations, summary.products, summary.certifications, summary.lots
    );
    Ok(())
}
