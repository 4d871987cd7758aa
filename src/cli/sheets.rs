//! `truyxuat import FILE.xlsx|csv` and `truyxuat template`: a producer's spreadsheet
//! through the same import as the console's.

use std::path::Path;

use anyhow::{Context, bail};

use crate::app::{self, App, Caller, imports};
use crate::cli::terminal::safe as clean;
use crate::sheets::{self, Kind};

/// The operator at this terminal, or the person `login` with their own roles.
pub async fn caller(app: &App, login: Option<&str>) -> anyhow::Result<Caller> {
    let Some(login) = login else {
        return Ok(Caller::cli());
    };
    let normalized = crate::domain::people::normalize_login(login)
        .map_err(|e| anyhow::anyhow!("--as {}: {e}", clean(login)))?;
    let Some((person, _)) = app.store.person_by_login(&normalized).await? else {
        bail!("--as {}: no such person", clean(login));
    };
    if person.status != crate::domain::people::PersonStatus::Active {
        bail!("--as {}: this person is disabled", clean(login));
    }
    let actor = app::access::signed_in_actor(app, &person).await?;
    Ok(Caller::new(actor, None))
}

/// The producer to import into: the one given, or the one producer the caller belongs to.
fn producer_of(caller: &Caller, given: Option<i64>) -> anyhow::Result<i64> {
    if let Some(id) = given {
        return Ok(id);
    }
    let producers: Vec<i64> = caller
        .actor
        .grants()
        .iter()
        .filter(|g| g.role.of_producer())
        .filter_map(|g| g.organization)
        .collect();
    match producers.as_slice() {
        [one] => Ok(*one),
        _ => bail!("say whose records these are: --producer ID"),
    }
}

pub async fn import(
    app: &App,
    caller: &Caller,
    path: &Path,
    producer: Option<i64>,
    options: imports::Options,
) -> anyhow::Result<()> {
    let producer = producer_of(caller, producer)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let file = if is_csv {
        sheets::read_csv(&bytes)
    } else {
        sheets::read_xlsx(&bytes)
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let outcome = imports::import_sheets(app, caller, producer, &file, options)
        .await
        .map_err(|e| anyhow::anyhow!("nothing imported: {e}"))?;
    for e in &outcome.errors {
        eprintln!(
            "{} dòng {} {}: {}",
            e.sheet,
            e.row,
            clean(&e.column),
            clean(&crate::web::rules::in_vietnamese(&e.refusal))
        );
    }
    let counts = |c: imports::Counts| {
        format!(
            "{} products, {} lots, {} certificates, {} events",
            c.products, c.lots, c.certificates, c.events
        )
    };
    println!(
        "new: {}; changed: {}; unchanged: {}",
        counts(outcome.created),
        counts(outcome.updated),
        counts(outcome.unchanged)
    );
    if !outcome.stored {
        if outcome.errors.is_empty() {
            println!("dry run: nothing stored");
            return Ok(());
        }
        bail!(
            "nothing imported: {} errors (fix them, or import the valid rows with --valid-rows-only)",
            outcome.errors.len()
        );
    }
    if !outcome.errors.is_empty() {
        let rows: usize = Kind::ALL
            .iter()
            .map(|k| outcome.refused_rows(*k, &|e| e.message.clone()).len())
            .sum();
        println!("stored the valid rows; {rows} rows with errors were left out");
    }
    Ok(())
}

/// `truyxuat template -o FILE.xlsx`
pub async fn template(app: &App, output: &Path) -> anyhow::Result<()> {
    let bytes = imports::template(app).await?;
    std::fs::write(output, bytes).with_context(|| format!("cannot write {}", output.display()))?;
    println!("{}", output.display());
    Ok(())
}
