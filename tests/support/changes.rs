//! Changes made the one way they can be: through the application layer, as the local
//! operator at the time given. Storage-contract tests call these on a store, so that they
//! read like what they check while every change still writes its audit entry.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use truyxuat::app::{self, Actor, App, Caller, Error, labels::MintRequest, registry};
use truyxuat::clock::FixedClock;
use truyxuat::domain::batch::{IndexRange, LabelBatch, RangeChange};
use truyxuat::domain::bundle::{ImportSummary, RegistryBundle};
use truyxuat::domain::certification::{CertStatus, Certification, NewCertification};
use truyxuat::domain::lot::{Lot, NewLot};
use truyxuat::domain::organization::{NewOrganization, Organization};
use truyxuat::domain::product::{NewProduct, Product};
use truyxuat::labelcode::Keyring;
use truyxuat::store::Store;

/// The application on `store`, its clock stopped at `now`.
pub fn app_at(store: &Arc<dyn Store>, now: DateTime<Utc>) -> App {
    App::new(store.clone(), Arc::new(FixedClock(now)))
}

/// The local operator, named `user`.
pub fn operator(user: &str) -> Caller {
    Caller::new(
        Actor::Cli {
            user: user.to_owned(),
        },
        None,
    )
}

#[allow(async_fn_in_trait)]
pub trait Changes {
    async fn create_organization(
        &self,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, Error>;
    async fn update_organization(
        &self,
        id: i64,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, Error>;
    async fn create_product(&self, p: &NewProduct, now: DateTime<Utc>) -> Result<Product, Error>;
    async fn update_product(
        &self,
        id: i64,
        p: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, Error>;
    async fn create_certification(
        &self,
        c: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, Error>;
    async fn update_certification(
        &self,
        id: i64,
        c: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, Error>;
    /// The status change made by the operator named `by`.
    async fn set_certification_status(
        &self,
        id: i64,
        to: CertStatus,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Certification, Error>;
    async fn create_lot(&self, l: &NewLot, now: DateTime<Utc>) -> Result<Lot, Error>;
    async fn update_lot(&self, id: i64, l: &NewLot, now: DateTime<Utc>) -> Result<Lot, Error>;
    async fn put_document(
        &self,
        content: &[u8],
        media_type: &str,
        file_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, Error>;
    async fn import_registry(
        &self,
        bundle: &RegistryBundle,
        now: DateTime<Utc>,
        pace: Option<std::time::Duration>,
    ) -> Result<ImportSummary, Error>;
    async fn mint(
        &self,
        keys: &Keyring,
        request: &MintRequest,
        max_batch: u32,
        now: DateTime<Utc>,
    ) -> Result<LabelBatch, Error>;
    async fn activate(
        &self,
        batch: i64,
        lot: &str,
        range: Option<IndexRange>,
        now: DateTime<Utc>,
    ) -> Result<RangeChange, Error>;
    async fn void(
        &self,
        batch: i64,
        range: Option<IndexRange>,
        now: DateTime<Utc>,
    ) -> Result<RangeChange, Error>;
    async fn recall(
        &self,
        product: i64,
        lot: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Lot, Error>;
}

impl Changes for Arc<dyn Store> {
    async fn create_organization(
        &self,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, Error> {
        registry::create_organization(&app_at(self, now), &Caller::cli(), org).await
    }

    async fn update_organization(
        &self,
        id: i64,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, Error> {
        registry::update_organization(&app_at(self, now), &Caller::cli(), id, org).await
    }

    async fn create_product(&self, p: &NewProduct, now: DateTime<Utc>) -> Result<Product, Error> {
        registry::create_product(&app_at(self, now), &Caller::cli(), p).await
    }

    async fn update_product(
        &self,
        id: i64,
        p: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, Error> {
        registry::update_product(&app_at(self, now), &Caller::cli(), id, p).await
    }

    async fn create_certification(
        &self,
        c: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, Error> {
        registry::create_certification(&app_at(self, now), &Caller::cli(), c).await
    }

    async fn update_certification(
        &self,
        id: i64,
        c: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, Error> {
        registry::update_certification(&app_at(self, now), &Caller::cli(), id, c).await
    }

    async fn set_certification_status(
        &self,
        id: i64,
        to: CertStatus,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Certification, Error> {
        registry::set_certification_status(
            &app_at(self, now),
            &operator(by),
            id,
            to,
            Some("kiểm tra"),
        )
        .await
    }

    async fn create_lot(&self, l: &NewLot, now: DateTime<Utc>) -> Result<Lot, Error> {
        registry::create_lot(&app_at(self, now), &Caller::cli(), l).await
    }

    async fn update_lot(&self, id: i64, l: &NewLot, now: DateTime<Utc>) -> Result<Lot, Error> {
        registry::update_lot(&app_at(self, now), &Caller::cli(), id, l).await
    }

    async fn put_document(
        &self,
        content: &[u8],
        media_type: &str,
        file_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let app = app_at(self, now);
        registry::store_document(&app, &Caller::cli(), content, media_type, file_name).await
    }

    async fn import_registry(
        &self,
        bundle: &RegistryBundle,
        now: DateTime<Utc>,
        pace: Option<std::time::Duration>,
    ) -> Result<ImportSummary, Error> {
        registry::import(&app_at(self, now), &Caller::cli(), bundle, pace).await
    }

    async fn mint(
        &self,
        keys: &Keyring,
        request: &MintRequest,
        max_batch: u32,
        now: DateTime<Utc>,
    ) -> Result<LabelBatch, Error> {
        let app = app_at(self, now);
        app::labels::mint(&app, &Caller::cli(), keys, request, max_batch).await
    }

    async fn activate(
        &self,
        batch: i64,
        lot: &str,
        range: Option<IndexRange>,
        now: DateTime<Utc>,
    ) -> Result<RangeChange, Error> {
        app::labels::activate(&app_at(self, now), &Caller::cli(), batch, lot, range).await
    }

    async fn void(
        &self,
        batch: i64,
        range: Option<IndexRange>,
        now: DateTime<Utc>,
    ) -> Result<RangeChange, Error> {
        app::labels::void(&app_at(self, now), &Caller::cli(), batch, range).await
    }

    async fn recall(
        &self,
        product: i64,
        lot: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Lot, Error> {
        app::labels::recall(&app_at(self, now), &Caller::cli(), product, lot, reason).await
    }
}
