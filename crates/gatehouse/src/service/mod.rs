//! Services: the rules. One public function per user intent, one transaction per call, and the
//! event it appends (CONVENTIONS.md 3). Handlers and the CLI call these; neither writes SQL.

mod accounts;
mod authentication;
mod clock;
mod error;
mod people;
mod tokens;
mod validate;

use std::sync::Arc;

pub use accounts::NewAccount;
pub use authentication::{AuthFailure, Principal};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ServiceError, ServiceResult};
pub use people::{NewPerson, PersonChanges, PersonView};
pub use tokens::{CreatedToken, NewToken, TOKEN_EXPIRY_CHOICES_DAYS, TokenExpiry, TokenView};

use crate::store::Store;

/// Everything a request needs, cheap to clone: held in axum's `State`.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}
