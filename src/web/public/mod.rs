//! What anyone may open, without signing in: the home page, the product and scan pages, the
//! GS1 resolver, product photos and shoppers' reports.

pub mod home;
pub mod photos;
pub mod resolver;
pub mod scan;
pub mod scan_cache;
pub mod scan_view;

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(scan::router())
        .merge(photos::router())
}
