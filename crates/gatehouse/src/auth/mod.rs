//! Pure authentication and authorization rules shared by every layer: the personal access token
//! format and its hash (`secret`), the scopes a token carries (`scope`), and the ceiling a
//! person's roles put on those scopes (`role`), both held in one `OrderedSet` (`set`). Nothing here performs I/O except reading the
//! operating system random number generator when a token is generated, so the rules are cheap to
//! test and safe to call from anywhere.

mod role;
mod scope;
mod secret;
mod set;

pub use role::{Rank, Role, RoleError, RoleSet, role_permits};
pub use scope::{Access, Resource, Scope, ScopeError, ScopeSet};
pub use secret::{
    PROVISIONING_PREFIX, RandomnessError, TOKEN_PREFIX, TokenFormatError, TokenHash, TokenKind,
    TokenSecret,
};
pub use set::OrderedSet;
