//! The label lifecycle as a service: mint, list, activate, void, recall, and the verdict on
//! a scanned URI (`verdict`). It joins the pure label code (`labels`) with the records
//! (`store`); the CLI and the web call it.

mod verdict;

pub use verdict::{BatchRecords, MAX_HELD_RANGES, Verdict, VerdictKind, verdict_on, verify};

use crate::app::{App, Caller, Error, audit, json, organization_target};
use crate::domain::audit::EntityRef;
use crate::domain::batch::Profile;
use crate::domain::batch::{IndexRange, LabelBatch, LabelState, NewBatch, RangeChange};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::domain::validation::{Invalid, Refusal, Rule};
use crate::labelcode::{Keyring, LabelBase, MintError, Minter, Serial};
use crate::store::{Store, StoreError, Writes};

/// The largest batch minted unless configured otherwise.
pub const DEFAULT_MAX_BATCH: u32 = 1_000_000;

fn refuse(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(Invalid::field(field, message))
}

/// No record named `what` for `field`.
fn not_found(field: &str, what: String, message: String) -> StoreError {
    let refusal = Refusal::new(Rule::NotFound, Some(what), message);
    StoreError::Invalid(Invalid::by(field, refusal))
}

fn mint_refusal(e: MintError) -> StoreError {
    refuse("labels", e.to_string())
}

async fn product(store: &dyn Store, id: i64) -> Result<Product, StoreError> {
    store.product(id).await?.ok_or_else(|| {
        not_found(
            "product",
            id.to_string(),
            format!("there is no product {id}"),
        )
    })
}

/// Product `id` as the transaction sees it.
async fn product_in(tx: &mut dyn Writes, id: i64) -> Result<Product, Error> {
    Ok(tx.product(id).await?.ok_or_else(|| {
        not_found(
            "product",
            id.to_string(),
            format!("there is no product {id}"),
        )
    })?)
}

/// The lot of `product` with `code`, as the transaction sees it.
async fn lot_in(tx: &mut dyn Writes, product: &Product, code: &str) -> Result<Lot, Error> {
    // A code no lot can have (a NUL, say) is not looked up.
    crate::domain::lot::check_lot_code(code.trim())
        .map_err(|refusal| StoreError::Invalid(Invalid::by("lot", refusal)))?;
    Ok(tx
        .lot_by_code(product.id, code.trim())
        .await?
        .ok_or_else(|| {
            not_found(
                "lot",
                code.trim().to_owned(),
                format!("product {} has no lot '{}'", product.id, code.trim()),
            )
        })?)
}

/// Batch `id` as the transaction sees it.
async fn batch_in(tx: &mut dyn Writes, id: i64) -> Result<LabelBatch, Error> {
    Ok(tx
        .batch(id)
        .await?
        .ok_or_else(|| not_found("batch", id.to_string(), format!("there is no batch {id}")))?)
}

/// What to mint.
#[derive(Debug, Clone)]
pub struct MintRequest {
    pub product_id: i64,
    pub count: u32,
    /// Mint for this lot (printed in GS1 URIs) and activate at once.
    pub lot: Option<String>,
    pub profile: Profile,
}

/// Mints a batch: one row, whatever the count. Nothing is stored when the request is refused.
pub async fn mint(
    app: &App,
    caller: &Caller,
    keyring: &Keyring,
    request: &MintRequest,
    max_batch: u32,
) -> Result<LabelBatch, Error> {
    Ok(
        mint_with_key(app, caller, keyring, request, max_batch, None)
            .await?
            .batch,
    )
}

/// A batch minted for an order, or the batch an earlier order with the same idempotency
/// key made.
#[derive(Debug)]
pub struct Minted {
    pub batch: LabelBatch,
    /// True when the batch was made by an earlier request with the same key.
    pub replayed: bool,
}

/// The longest idempotency key taken (a UUID is 36 characters).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Mints a batch once per idempotency `key` of the caller: the same key with the same
/// request gives the batch the first one made, however often and however concurrently it
/// is sent; the same key with another request is refused.
pub async fn mint_with_key(
    app: &App,
    caller: &Caller,
    keyring: &Keyring,
    request: &MintRequest,
    max_batch: u32,
    idempotency_key: Option<&str>,
) -> Result<Minted, Error> {
    if let Some(key) = idempotency_key
        && (key.is_empty()
            || key.len() > MAX_IDEMPOTENCY_KEY
            || !key.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(refuse(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters, such as a UUID"),
        )
        .into());
    }
    if request.count == 0 || request.count > max_batch {
        let message = format!(
            "must be from 1 to {max_batch} labels, not {}",
            request.count
        );
        let refusal = Refusal::new(Rule::OutOfRange, Some(format!("1–{max_batch}")), message);
        return Err(StoreError::Invalid(Invalid::by("count", refusal)).into());
    }
    let key = keyring.active().ok_or_else(|| {
        refuse(
            "key",
            "there is no active signing key: run `truyxuat keys new` (or `keys rotate`)",
        )
    })?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let product = product_in(&mut *tx, request.product_id).await?;
    let target = organization_target(&mut *tx, product.data.producer_id).await?;
    caller.require("labels.mint", &target)?;
    let scope = idempotency_scope(&caller.actor);
    if let Some(key) = idempotency_key {
        let fingerprint = request.fingerprint();
        if let Some((earlier, batch)) = tx
            .claim_idempotency_key(&scope, key, &fingerprint, now)
            .await?
        {
            if earlier != fingerprint {
                return Err(refuse(
                    "Idempotency-Key",
                    "was used before for another order: use a new key for a new order",
                )
                .into());
            }
            let id =
                batch.ok_or_else(|| Error::Internal(format!("idempotency key {key} unsettled")))?;
            let batch = batch_in(&mut *tx, id).await?;
            tx.commit().await?;
            return Ok(Minted {
                batch,
                replayed: true,
            });
        }
    }
    let lot = match &request.lot {
        Some(code) => {
            if product.data.gtin.is_none() {
                return Err(refuse(
                    "lot",
                    "a lot is printed only in GS1 labels, and this product has no GTIN: \
                     mint without --lot, then `truyxuat activate BATCH --lot CODE`",
                )
                .into());
            }
            Some(lot_in(&mut *tx, &product, code).await?)
        }
        None => None,
    };
    let end = tx.take_label_numbers(key.kid(), request.count).await?;
    if end > crate::labelcode::LABEL_NUMBERS {
        return Err(refuse(
            "count",
            "the signing key has no label numbers left: rotate to a new key",
        )
        .into());
    }
    let first = u32::try_from(end - u64::from(request.count))
        .map_err(|_| Error::Internal(format!("label number {end} out of range")))?;
    let new = NewBatch {
        product_id: product.id,
        lot_id: lot.as_ref().map(|l| l.id),
        kid: key.kid().to_owned(),
        key_slot: key.slot(),
        count: request.count,
        profile: request.profile,
    };
    let batch = tx.insert_batch(&new, first, now).await?;
    if let Some(key) = idempotency_key {
        tx.settle_idempotency_key(&scope, key, batch.id).await?;
    }
    let entity = EntityRef::new("batch", batch.id);
    let after = Some(json(&batch)?);
    audit(&mut *tx, caller, now, "labels.mint", entity, None, after).await?;
    tx.commit().await?;
    Ok(Minted {
        batch,
        replayed: false,
    })
}

/// Whose idempotency keys these are: each token, person and command-line user has its own.
fn idempotency_scope(actor: &crate::app::Actor) -> String {
    use crate::app::Actor;
    match actor {
        Actor::Cli { user } => format!("cli:{user}"),
        Actor::Person { id, .. } => format!("person:{id}"),
        Actor::Token { id, .. } => format!("token:{id}"),
    }
}

impl MintRequest {
    /// The order as understood, hashed: two requests that ask for the same batch have the
    /// same fingerprint however their JSON was spaced or ordered.
    fn fingerprint(&self) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let canonical = serde_json::json!({
            "product_id": self.product_id,
            "count": self.count,
            "lot": self.lot.as_deref().map(str::trim),
            "profile": crate::domain::batch::profile_name(self.profile),
        });
        Sha256::digest(canonical.to_string().as_bytes()).to_vec()
    }
}

/// A batch with what its labels print: the product and the lot in the URIs.
pub struct PrintableBatch {
    pub batch: LabelBatch,
    pub product: Product,
    pub lot: Option<Lot>,
}

/// Loads a batch for printing or listing.
pub async fn printable(store: &dyn Store, batch_id: i64) -> Result<PrintableBatch, StoreError> {
    let batch = store
        .batch(batch_id)
        .await?
        .ok_or_else(|| refuse("batch", format!("there is no batch {batch_id}")))?;
    let product = product(store, batch.product_id).await?;
    let lot = match batch.lot_id {
        Some(id) => store.lot(id).await?,
        None => None,
    };
    Ok(PrintableBatch {
        batch,
        product,
        lot,
    })
}

/// Loads a batch for `caller` to print or download. Whoever holds a batch's URIs can print
/// genuine copies of its labels, so this asks for `labels.print`, not a read.
pub async fn for_printing(
    app: &App,
    caller: &Caller,
    batch_id: i64,
) -> Result<PrintableBatch, Error> {
    if app.store.batch(batch_id).await?.is_none() {
        return Err(Error::NotFound("batch"));
    }
    let printable = printable(&*app.store, batch_id).await?;
    let target = super::organization_target_now(app, printable.product.data.producer_id).await?;
    caller.require("labels.print", &target)?;
    Ok(printable)
}

/// What a print run or download gave out, as its audit entry records it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrintRecord {
    pub range: IndexRange,
    pub format: String,
    pub layout: String,
    pub calibration: bool,
}

/// Records that `caller` printed or downloaded labels of a batch, once the file is made
/// and before it is handed over: who holds copies of which labels is what an inspector
/// asks first when forged labels turn up.
pub async fn printed(
    app: &App,
    caller: &Caller,
    batch_id: i64,
    record: &PrintRecord,
) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let batch = batch_in(&mut *tx, batch_id).await?;
    let product = product_in(&mut *tx, batch.product_id).await?;
    let target = organization_target(&mut *tx, product.data.producer_id).await?;
    caller.require("labels.print", &target)?;
    let entity = EntityRef::new("batch", batch_id);
    audit(
        &mut *tx,
        caller,
        now,
        "labels.print",
        entity,
        None,
        Some(json(record)?),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues a print run too large to render while a browser waits; the worker of the server
/// process renders it (`crate::jobs`). Ordering it is taking the labels: `labels.print`, and
/// the audit entry says who took which, as for a download.
pub async fn order_print(
    app: &App,
    caller: &Caller,
    batch_id: i64,
    spec: &crate::domain::job::PrintSpec,
) -> Result<crate::domain::job::PrintJob, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let batch = batch_in(&mut *tx, batch_id).await?;
    let product = product_in(&mut *tx, batch.product_id).await?;
    let target = organization_target(&mut *tx, product.data.producer_id).await?;
    caller.require("labels.print", &target)?;
    let range = spec
        .range
        .within(batch.count)
        .map_err(|m| refuse("range", m))?;
    let job = crate::domain::job::NewPrintJob {
        batch_id,
        requested_by: caller.actor.display_name(),
        person_id: caller.actor.person_id(),
        spec: crate::domain::job::PrintSpec {
            range,
            ..spec.clone()
        },
    };
    let labels = if spec.calibration {
        1
    } else {
        i64::from(range.len())
    };
    let queued = tx.insert_print_job(&job, labels, now).await?;
    let record = PrintRecord {
        range,
        format: spec.format.clone(),
        layout: spec.layout.clone(),
        calibration: spec.calibration,
    };
    let entity = EntityRef::new("batch", batch_id);
    let after = Some(json(
        &serde_json::json!({ "job": queued.id, "print": record }),
    )?);
    audit(&mut *tx, caller, now, "labels.print", entity, None, after).await?;
    tx.commit().await?;
    Ok(queued)
}

impl PrintableBatch {
    /// Calls `each(index, serial, uri)` for every label of `range`, in order, reusing one
    /// buffer. The batch's key must still be in the keyring (any status).
    pub fn for_each_uri<E: From<StoreError> + From<MintError>>(
        &self,
        keyring: &Keyring,
        base: &LabelBase,
        range: IndexRange,
        mut each: impl FnMut(u32, &Serial, &str) -> Result<(), E>,
    ) -> Result<(), E> {
        let range = range
            .within(self.batch.count)
            .map_err(|m| refuse("range", m))?;
        let key = keyring.by_kid(&self.batch.kid).ok_or_else(|| {
            refuse(
                "key",
                format!(
                    "key {} of this batch is not in the key folder",
                    self.batch.kid
                ),
            )
        })?;
        // Reprinting uses the batch's own key whatever its status now: the serials are
        // already decided by it.
        let mut minter = Minter::for_reprint(
            key,
            base.clone(),
            self.product.data.gtin.as_ref(),
            self.lot.as_ref().map(|l| l.data.code.as_str()),
            self.batch.profile,
        )
        .map_err(mint_refusal)?;
        let first = self.batch.first_number;
        minter.for_each_uri(first + range.first, range.len(), |number, serial, uri| {
            each(number - first, serial, uri)
        })
    }
}

impl From<MintError> for StoreError {
    fn from(e: MintError) -> Self {
        mint_refusal(e)
    }
}

/// Ties labels of a batch to a lot of its product: they are then on a product.
pub async fn activate(
    app: &App,
    caller: &Caller,
    batch_id: i64,
    lot_code: &str,
    range: Option<IndexRange>,
) -> Result<RangeChange, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let batch = batch_in(&mut *tx, batch_id).await?;
    let product = product_in(&mut *tx, batch.product_id).await?;
    let target = organization_target(&mut *tx, product.data.producer_id).await?;
    caller.require("labels.activate", &target)?;
    let lot = lot_in(&mut *tx, &product, lot_code).await?;
    if let Some(printed) = batch.lot_id.filter(|&id| id != lot.id) {
        let printed = tx
            .lot(printed)
            .await?
            .map(|l| l.data.code)
            .unwrap_or_default();
        return Err(refuse(
            "lot",
            format!("the labels of batch {batch_id} carry lot '{printed}' in their URI"),
        )
        .into());
    }
    let change = RangeChange {
        range: range_of(&batch, range)?,
        state: LabelState::Activated,
        lot_id: Some(lot.id),
    };
    change_labels(&mut *tx, caller, now, batch_id, &change, "labels.activate").await?;
    tx.commit().await?;
    Ok(change)
}

/// Voids labels of a batch (misprinted, lost, destroyed): a scan then says so.
pub async fn void(
    app: &App,
    caller: &Caller,
    batch_id: i64,
    range: Option<IndexRange>,
) -> Result<RangeChange, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let batch = batch_in(&mut *tx, batch_id).await?;
    let product = product_in(&mut *tx, batch.product_id).await?;
    let target = organization_target(&mut *tx, product.data.producer_id).await?;
    caller.require("labels.void", &target)?;
    let change = RangeChange {
        range: range_of(&batch, range)?,
        state: LabelState::Void,
        lot_id: None,
    };
    change_labels(&mut *tx, caller, now, batch_id, &change, "labels.void").await?;
    tx.commit().await?;
    Ok(change)
}

/// Records a change of a range of a batch's labels, and its audit entry.
async fn change_labels(
    tx: &mut dyn Writes,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
    batch_id: i64,
    change: &RangeChange,
    action: &str,
) -> Result<(), Error> {
    tx.insert_label_range(batch_id, change, now).await?;
    let entity = EntityRef::new("batch", batch_id);
    audit(tx, caller, now, action, entity, None, Some(json(change)?)).await?;
    Ok(())
}

/// Recalls a lot of a product in a few words: every label tied to it then reads as
/// recalled. GS1's other fields take what a producer recalling its own lot would give: the
/// reason "other", risk class 2, the producer as the contact. An inspector's recall gives
/// them all (`recalls::open`).
pub async fn recall(
    app: &App,
    caller: &Caller,
    product_id: i64,
    lot_code: &str,
    reason: &str,
) -> Result<Lot, Error> {
    let (lot, contact) = {
        let product = product(&*app.store, product_id).await?;
        crate::domain::lot::check_lot_code(lot_code.trim())
            .map_err(|refusal| StoreError::Invalid(Invalid::by("lot", refusal)))?;
        let lot = app
            .store
            .lot_by_code(product.id, lot_code.trim())
            .await?
            .ok_or_else(|| {
                not_found(
                    "lot",
                    lot_code.trim().to_owned(),
                    format!("product {} has no lot '{}'", product.id, lot_code.trim()),
                )
            })?;
        let producer = app.store.organization(product.data.producer_id).await?;
        let contact = producer
            .map(|o| {
                [Some(o.data.name), o.data.phone, o.data.email]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        (lot, contact)
    };
    let input = crate::domain::recall::RecallInput {
        lot_ids: vec![lot.id],
        reason_code: crate::domain::recall::RecallReason::Other
            .as_str()
            .to_owned(),
        reason: reason.to_owned(),
        risk_class: Some(2),
        contact,
    };
    let recall = input.validate()?;
    super::recalls::open(app, caller, &recall).await?;
    app.store.lot(lot.id).await?.ok_or(Error::NotFound("lot"))
}

fn range_of(batch: &LabelBatch, range: Option<IndexRange>) -> Result<IndexRange, StoreError> {
    range
        .unwrap_or_else(|| batch.all())
        .within(batch.count)
        .map_err(|m| refuse("range", m))
}
