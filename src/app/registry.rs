//! The registry's changes: organizations, products, certificates (and their status), lots,
//! evidence documents and whole imports. Each checks what the change refers to (a producer
//! for a product, an authority for an issuer, a product of the holder for a certificate),
//! writes it and its audit entry in one transaction.

use sha2::{Digest, Sha256};

use super::error::{refuse, refuse_by};
use super::permissions::Target;
use super::{App, Caller, Error, audit, json, organization_target, organization_target_now};
use crate::domain::audit::EntityRef;
use crate::domain::batch::refuse_printed_change;
use crate::domain::bundle::{ImportSummary, RegistryBundle};
use crate::domain::certification::{CertStatus, Certification, NewCertification};
use crate::domain::lot::{Lot, NewLot};
use crate::domain::organization::{NewOrganization, Organization};
use crate::domain::product::{NewProduct, Product};
use crate::domain::validation::{FieldError, Invalid, Rule};
use crate::store::{ImportedIds, Writes};

/// Organization `id`, which must be a producer (or, with `producer` false, an authority);
/// otherwise a refusal of `field`.
async fn organization_of_kind(
    tx: &mut dyn Writes,
    id: i64,
    field: &str,
    producer: bool,
) -> Result<Organization, Error> {
    let org = tx.organization(id).await?.ok_or_else(|| {
        let message = format!("there is no organization {id}");
        refuse_by(field, Rule::NotFound, Some(id.to_string()), message)
    })?;
    match (producer, org.data.kind.is_producer()) {
        (true, false) => Err(refuse_by(
            field,
            Rule::NotAProducer,
            None,
            format!("organization {id} is not a producer"),
        )),
        (false, true) => Err(refuse_by(
            field,
            Rule::NotAnAuthority,
            None,
            format!("organization {id} is not an authority"),
        )),
        _ => Ok(org),
    }
}

/// Product `id`, or a refusal of `field`.
async fn product_for(tx: &mut dyn Writes, id: i64, field: &str) -> Result<Product, Error> {
    tx.product(id).await?.ok_or_else(|| {
        let message = format!("there is no product {id}");
        refuse_by(field, Rule::NotFound, Some(id.to_string()), message)
    })
}

pub async fn create_organization(
    app: &App,
    caller: &Caller,
    org: &NewOrganization,
) -> Result<Organization, Error> {
    caller.require("organization.create", &Target::everything())?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let created = tx.insert_organization(org, now).await?;
    let entity = EntityRef::new("organization", created.id);
    let after = Some(json(&created)?);
    audit(
        &mut *tx,
        caller,
        now,
        "organization.create",
        entity,
        None,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn update_organization(
    app: &App,
    caller: &Caller,
    id: i64,
    org: &NewOrganization,
) -> Result<Organization, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx
        .organization(id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    let target = Target::of(&before);
    caller.require("organization.update", &target)?;
    let after = tx.update_organization(id, org, now).await?;
    let entity = EntityRef::new("organization", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "organization.update", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Suspends a producer (`reason` given) or reinstates it (None): while suspended, its people
/// read its records but change none, and its label pages say it is suspended.
pub async fn set_suspension(
    app: &App,
    caller: &Caller,
    id: i64,
    reason: Option<&str>,
) -> Result<Organization, Error> {
    let now = app.now();
    let action = if reason.is_some() {
        "organization.suspend"
    } else {
        "organization.reinstate"
    };
    let mut tx = app.store.begin().await?;
    let before = tx
        .organization(id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    caller.require(action, &Target::of(&before))?;
    if !before.data.kind.is_producer() {
        return Err(refuse_by(
            "id",
            Rule::NotAProducer,
            None,
            "only a producer can be suspended",
        ));
    }
    let reason = match reason {
        Some(text) => {
            let mut v = crate::domain::validation::Validator::default();
            let reason = v.text("reason", text, 500);
            v.finish()?;
            Some(reason)
        }
        None => None,
    };
    if reason.is_some() == before.suspended_at.is_some() {
        let state = if reason.is_some() {
            "already suspended"
        } else {
            "not suspended"
        };
        return Err(Error::Conflict(crate::domain::validation::Invalid::field(
            "status",
            format!("{} is {state}", before.data.name),
        )));
    }
    let after = tx.set_suspension(id, reason.as_deref(), now).await?;
    let entity = EntityRef::new("organization", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, action, entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn create_product(
    app: &App,
    caller: &Caller,
    product: &NewProduct,
) -> Result<Product, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let target = organization_target(&mut *tx, product.producer_id).await?;
    caller.require("product.create", &target)?;
    organization_of_kind(&mut *tx, product.producer_id, "producer_id", true).await?;
    let created = tx.insert_product(product, now).await?;
    let entity = EntityRef::new("product", created.id);
    let after = Some(json(&created)?);
    audit(&mut *tx, caller, now, "product.create", entity, None, after).await?;
    tx.commit().await?;
    Ok(created)
}

/// Updates a product; its GTIN cannot change once labels print it.
pub async fn update_product(
    app: &App,
    caller: &Caller,
    id: i64,
    product: &NewProduct,
) -> Result<Product, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx.product(id).await?.ok_or(Error::NotFound("product"))?;
    for producer in [before.data.producer_id, product.producer_id] {
        let target = organization_target(&mut *tx, producer).await?;
        caller.require("product.update", &target)?;
    }
    organization_of_kind(&mut *tx, product.producer_id, "producer_id", true).await?;
    if before.data.gtin != product.gtin {
        let batches = tx.batches_of_product(id).await?;
        refuse_printed_change(&batches, "gtin", "the GTIN").map_err(Error::Conflict)?;
    }
    let after = tx.update_product(id, product, now).await?;
    let entity = EntityRef::new("product", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "product.update", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Gives a product the photo `content` (a JPEG, PNG or WebP from a phone): the file is kept
/// once by its SHA-256, its 360 and 720 px sizes are made now, and the product's photo
/// address becomes its large size's (see [`crate::photos::Sizes`]).
pub async fn set_product_photo(
    app: &App,
    caller: &Caller,
    id: i64,
    content: Vec<u8>,
) -> Result<Product, Error> {
    // Refuse early, before seconds of decoding, whoever may not edit the product.
    let product = app
        .store
        .product(id)
        .await?
        .ok_or(Error::NotFound("product"))?;
    let target = organization_target_now(app, product.data.producer_id).await?;
    caller.require("product.update", &target)?;
    let (content, prepared) = tokio::task::spawn_blocking(move || {
        let prepared = crate::photos::prepare(&content);
        (content, prepared)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    let prepared = prepared.map_err(|refusal| Invalid::by("photo", refusal))?;

    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx.product(id).await?.ok_or(Error::NotFound("product"))?;
    let target = organization_target(&mut *tx, before.data.producer_id).await?;
    caller.require("product.update", &target)?;
    let sha256 = tx
        .insert_document(&content, prepared.media_type, None, now)
        .await?;
    let small = tx
        .insert_document(&prepared.small, "image/jpeg", None, now)
        .await?;
    let large = tx
        .insert_document(&prepared.large, "image/jpeg", None, now)
        .await?;
    tx.insert_photo(&sha256, &small, &large, now).await?;
    let mut changed = before.data.clone();
    changed.photo_url = Some(crate::photos::Sizes::of(&sha256).large);
    let after = tx.update_product(id, &changed, now).await?;
    let entity = EntityRef::new("product", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "product.photo", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Checks what a certificate refers to: a producer holding it, an authority issuing it, a
/// product of that producer, and a stored evidence document.
async fn check_certification_links(
    tx: &mut dyn Writes,
    cert: &NewCertification,
) -> Result<(), Error> {
    organization_of_kind(tx, cert.holder_id, "holder_id", true).await?;
    organization_of_kind(tx, cert.issuer_id, "issuer_id", false).await?;
    if let Some(product_id) = cert.product_id {
        if product_for(tx, product_id, "product_id")
            .await?
            .data
            .producer_id
            != cert.holder_id
        {
            return Err(refuse_by(
                "product_id",
                Rule::OtherProducersProduct,
                None,
                "the product belongs to another producer",
            ));
        }
    }
    if let Some(sha) = &cert.evidence_sha256 {
        if !tx.document_stored(sha).await? {
            return Err(refuse_by(
                "evidence_sha256",
                Rule::NoSuchDocument,
                None,
                "no document with this SHA-256 is stored",
            ));
        }
    }
    Ok(())
}

/// Stores a certificate as submitted, for an inspector to verify.
pub async fn create_certification(
    app: &App,
    caller: &Caller,
    cert: &NewCertification,
) -> Result<Certification, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let target = organization_target(&mut *tx, cert.holder_id).await?;
    caller.require("certification.create", &target)?;
    check_certification_links(&mut *tx, cert).await?;
    let created = tx.insert_certification(cert, now).await?;
    let entity = EntityRef::new("certification", created.id);
    let after = Some(json(&created)?);
    audit(
        &mut *tx,
        caller,
        now,
        "certification.create",
        entity,
        None,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn update_certification(
    app: &App,
    caller: &Caller,
    id: i64,
    cert: &NewCertification,
) -> Result<Certification, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx
        .certification(id)
        .await?
        .ok_or(Error::NotFound("certification"))?;
    for holder in [before.data.holder_id, cert.holder_id] {
        let target = organization_target(&mut *tx, holder).await?;
        caller.require("certification.update", &target)?;
    }
    check_certification_links(&mut *tx, cert).await?;
    let after = write_certificate_change(&mut *tx, caller, &before, cert, now).await?;
    let entity = EntityRef::new("certification", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "certification.update", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Writes a holder's change to certificate `before`: when what it says changed, a decided
/// certificate goes back to an inspector (`CertStatus::after_holder_change`).
pub(crate) async fn write_certificate_change(
    tx: &mut dyn Writes,
    caller: &Caller,
    before: &Certification,
    cert: &NewCertification,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Certification, Error> {
    let stored = tx.update_certification(before.id, cert, now).await?;
    let status = before.status.after_holder_change();
    if status == before.status || stored.data == before.data {
        return Ok(stored);
    }
    let by = caller.actor.display_name();
    Ok(tx
        .set_certification_status(before.id, before.status, status, &by, None, now)
        .await?)
}

/// Moves a certificate to a new status, refused when the move is not allowed; the actor is
/// recorded as the one who made it. Rejecting or revoking needs a reason, which the
/// shopper's page shows with the decision.
pub async fn set_certification_status(
    app: &App,
    caller: &Caller,
    id: i64,
    to: CertStatus,
    reason: Option<&str>,
) -> Result<Certification, Error> {
    let mut v = crate::domain::validation::Validator::default();
    let reason = v.optional_multiline_text("reason", reason, 1000);
    v.finish()?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let after = change_status_in(&mut *tx, caller, id, to, reason, now).await?;
    tx.commit().await?;
    Ok(after)
}

/// Revokes every certificate of `ids` by one decision (its number, say "125/QĐ-UBND", and
/// why), all or none: one transaction, an audit entry for each certificate. The shopper's
/// page of each shows the decision's number with the reason.
pub async fn revoke_by_decision(
    app: &App,
    caller: &Caller,
    ids: &[i64],
    decision: &str,
    reason: &str,
) -> Result<Vec<Certification>, Error> {
    let mut v = crate::domain::validation::Validator::default();
    if ids.is_empty() {
        v.choose("ids", "choose the certificates the decision revokes");
    }
    let decision = v.text("decision", decision, 100);
    let reason = v.text("reason", reason, 900);
    v.finish()?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let mut revoked = Vec::with_capacity(ids.len());
    let stated = format!("{decision}: {reason}");
    for id in ids {
        let to = CertStatus::Revoked;
        let after = change_status_in(&mut *tx, caller, *id, to, Some(stated.clone()), now).await?;
        revoked.push(after);
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Moves certificate `id` to `to` within `tx`, with its audit entry: only the moves its
/// status allows, a rejection or a revocation only with a reason.
async fn change_status_in(
    tx: &mut dyn Writes,
    caller: &Caller,
    id: i64,
    to: CertStatus,
    reason: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Certification, Error> {
    let needs_reason = matches!(to, CertStatus::Rejected | CertStatus::Revoked);
    let reason = reason.filter(|_| needs_reason);
    let before = tx
        .certification(id)
        .await?
        .ok_or(Error::NotFound("certification"))?;
    let target = organization_target(tx, before.data.holder_id).await?;
    caller.require("certification.status", &target)?;
    if !before.status.can_become(to) {
        return Err(refuse_by(
            "status",
            Rule::StatusMove,
            None,
            format!(
                "a {} certificate cannot become {}",
                before.status.as_str(),
                to.as_str()
            ),
        ));
    }
    if needs_reason && reason.is_none() {
        return Err(refuse_by(
            "reason",
            Rule::Required,
            None,
            "say why: the shopper's page shows it with the decision",
        ));
    }
    let by = caller.actor.display_name();
    let after = tx
        .set_certification_status(id, before.status, to, &by, reason.as_deref(), now)
        .await?;
    let entity = EntityRef::new("certification", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(tx, caller, now, "certification.status", entity, b, a).await?;
    Ok(after)
}

pub async fn create_lot(app: &App, caller: &Caller, lot: &NewLot) -> Result<Lot, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let product = product_for(&mut *tx, lot.product_id, "product_id").await?;
    let target = organization_target(&mut *tx, product.data.producer_id).await?;
    caller.require("lot.create", &target)?;
    let created = tx.insert_lot(lot, now).await?;
    let entity = EntityRef::new("lot", created.id);
    let after = Some(json(&created)?);
    audit(&mut *tx, caller, now, "lot.create", entity, None, after).await?;
    tx.commit().await?;
    Ok(created)
}

/// Updates a lot; its code cannot change once labels print it, nor its product once labels
/// carry it.
pub async fn update_lot(app: &App, caller: &Caller, id: i64, lot: &NewLot) -> Result<Lot, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx.lot(id).await?.ok_or(Error::NotFound("lot"))?;
    for product_id in [before.data.product_id, lot.product_id] {
        let product = product_for(&mut *tx, product_id, "product_id").await?;
        let target = organization_target(&mut *tx, product.data.producer_id).await?;
        caller.require("lot.update", &target)?;
    }
    if before.data.code != lot.code {
        let batches = tx.batches_printing_lot(id).await?;
        refuse_printed_change(&batches, "code", "the lot code").map_err(Error::Conflict)?;
    }
    if before.data.product_id != lot.product_id {
        let mut batches = tx.batches_printing_lot(id).await?;
        batches.extend(tx.batches_activated_on_lot(id).await?);
        batches.sort_unstable();
        batches.dedup();
        refuse_printed_change(&batches, "product_id", "the lot's product")
            .map_err(Error::Conflict)?;
    }
    let after = tx.update_lot(id, lot, now).await?;
    let entity = EntityRef::new("lot", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "lot.update", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Stores an evidence document (judged by its content, see `domain::document`); returns
/// its SHA-256. Storing the same bytes again changes nothing but is recorded all the same.
pub async fn store_document(
    app: &App,
    caller: &Caller,
    content: &[u8],
    media_type: &str,
    file_name: Option<&str>,
) -> Result<String, Error> {
    caller.require("document.store", &Target::unowned())?;
    // The content decides, not the declared type: HTML sent as a PDF is refused, whichever
    // edge it came through.
    let media_type = crate::domain::document::check(media_type, content)
        .map_err(|refusal| Invalid::by("content_type", refusal))?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let sha256 = tx
        .insert_document(content, media_type, file_name, now)
        .await?;
    let entity = EntityRef::new("document", sha256.clone());
    let after = Some(serde_json::json!({
        "sha256": sha256,
        "media_type": media_type,
        "file_name": file_name,
        "size_bytes": content.len(),
    }));
    audit(&mut *tx, caller, now, "document.store", entity, None, after).await?;
    tx.commit().await?;
    Ok(sha256)
}

/// What an import's audit entry records: the ids its entities got and the SHA-256 of the
/// bundle's canonical JSON (the content itself would make one entry of megabytes).
#[derive(serde::Serialize)]
struct ImportRecord<'a> {
    bundle_sha256: &'a str,
    summary: ImportSummary,
    ids: &'a ImportedIds,
}

/// Imports a whole bundle, all or nothing. Everything that needs no writing is done before
/// the transaction opens (links resolved and checked, GTINs and documents looked up), so
/// the transaction only writes and the scans waiting for it wait briefly. `pace` (crash
/// tests only) writes a row a statement and waits between them.
pub async fn import(
    app: &App,
    caller: &Caller,
    bundle: &RegistryBundle,
    pace: Option<std::time::Duration>,
) -> Result<ImportSummary, Error> {
    caller.require("registry.import", &Target::everything())?;
    let links = bundle.resolve()?;
    refuse_taken_gtins(app, bundle).await?;
    for (i, c) in bundle.certifications.iter().enumerate() {
        if let Some(sha) = &c.cert.evidence_sha256 {
            if app.store.document(sha).await?.is_none() {
                return Err(refuse(
                    &format!("certifications[{i}].evidence_sha256"),
                    "no document with this SHA-256 is stored",
                ));
            }
        }
    }
    let canonical = serde_json::to_value(bundle)
        .and_then(|bundle| crate::domain::audit::canonical_json(&bundle))
        .map_err(|e| Error::Internal(format!("bundle as JSON: {e}")))?;
    let bundle_sha256 = hex::encode(Sha256::digest(&canonical));
    let summary = ImportSummary {
        organizations: bundle.organizations.len(),
        products: bundle.products.len(),
        certifications: bundle.certifications.len(),
        lots: bundle.lots.len(),
    };
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let ids = tx.insert_bundle(bundle, &links, now, pace).await?;
    let record = ImportRecord {
        bundle_sha256: &bundle_sha256,
        summary,
        ids: &ids,
    };
    let entity = EntityRef::new("import", bundle_sha256.clone());
    audit(
        &mut *tx,
        caller,
        now,
        "registry.import",
        entity,
        None,
        Some(json(&record)?),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// Refuses a bundle whose GTINs are already taken, naming each product.
async fn refuse_taken_gtins(app: &App, bundle: &RegistryBundle) -> Result<(), Error> {
    let gtins: Vec<(usize, String)> = (bundle.products.iter().enumerate())
        .filter_map(|(i, (_, _, p))| p.gtin.map(|g| (i, g.as_gtin14())))
        .collect();
    let wanted: Vec<String> = gtins.iter().map(|(_, g)| g.clone()).collect();
    let taken: std::collections::HashSet<String> =
        app.store.taken_gtins(&wanted).await?.into_iter().collect();
    let errors: Vec<FieldError> = (gtins.iter())
        .filter(|(_, gtin)| taken.contains(gtin))
        .map(|(i, _)| {
            FieldError::new(
                format!("products[{i}].gtin"),
                "another product already has this GTIN",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict(Invalid { errors }))
    }
}

/// The organizations whose records `caller` may read: their own, their province's
/// (inspectors), everyone's (operators).
pub async fn readable_organizations(
    app: &App,
    caller: &Caller,
) -> Result<Vec<Organization>, Error> {
    let all = app
        .store
        .list_organizations(&crate::store::ListQuery {
            limit: Some(crate::store::ListQuery::MAX_LIMIT),
            ..Default::default()
        })
        .await?;
    Ok(all
        .into_iter()
        .filter(|o| {
            let target = Target::of(o);
            caller.actor.may("registry.read", &target)
        })
        .collect())
}

/// Refuses `caller` a record of organization `id` they may not read.
pub async fn require_readable(app: &App, caller: &Caller, id: i64) -> Result<(), Error> {
    caller.require("registry.read", &organization_target_now(app, id).await?)
}

/// Certificate `id`, when `caller` may read its holder's records.
pub async fn readable_certification(
    app: &App,
    caller: &Caller,
    id: i64,
) -> Result<Certification, Error> {
    let cert = app
        .store
        .certification(id)
        .await?
        .ok_or(Error::NotFound("certification"))?;
    require_readable(app, caller, cert.data.holder_id).await?;
    Ok(cert)
}
