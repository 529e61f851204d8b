//! The records the console creates, edits and deletes through one form (webhooks, webhook
//! policies). What each one shows and which service calls its form makes are its own
//! (`Editable`); how a request moves through them — which refusals show the form again with the
//! reason, where a success leads — is written once, here, as generic handlers.

use std::fmt::Display;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use uuid::Uuid;

use super::error::{PageError, PageResult, parse_id};
use super::form::{Fields, Submitted};
use super::layout::{self, NewestFirst, Section, table_wrap};
use super::session::Session;
use crate::domain::Account;
use crate::http::AppState;
use crate::service::ServiceError;
use crate::store::{ListQuery, Listing};

/// A signed-in person's request, acting in the session's account.
pub struct Context<'a> {
    pub state: &'a AppState,
    pub session: &'a Session,
    pub account: Account,
}

impl<'a> Context<'a> {
    pub async fn new(state: &'a AppState, session: &'a Session) -> PageResult<Self> {
        let account = session.account(state).await?;
        Ok(Self {
            state,
            session,
            account,
        })
    }
}

/// A record with a create-and-edit form, its own page at `{LIST}/{id}`, and a delete button.
pub trait Editable: Sized + Send + Sync {
    type Id: Copy + Display + Send + Sync;
    /// What the form shows: a record's values, or what was typed when a submit was refused.
    type Form: Send + Sync;

    /// How a not-found page names the record.
    const NOUN: &'static str;
    /// The list's path.
    const LIST: &'static str;
    const SECTION: Section;
    /// The list's title, what it says when empty, and its flash after a delete.
    const TITLE: &'static str;
    const NONE_YET: &'static str;
    const DELETED: &'static str;
    /// The titles of the page with the empty form and of the page after a create.
    const NEW_TITLE: &'static str;
    const CREATED_TITLE: &'static str;
    /// The statuses at which a refused create, or save, shows the form again with the reason
    /// (and what was typed); any other error is an error page.
    const CREATE_REFUSALS: &'static [StatusCode];
    const SAVE_REFUSALS: &'static [StatusCode];

    fn id(uuid: Uuid) -> Self::Id;
    fn name(&self) -> &str;
    /// The form filled with this record's values.
    fn values(&self) -> Self::Form;
    /// The form filled with what was submitted.
    fn typed(fields: &Fields) -> Self::Form;
    /// The form for a new record.
    fn blank() -> Self::Form;

    /// A page of the account's records.
    fn list(
        cx: &Context<'_>,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing<Self>, ServiceError>> + Send;
    /// What the list says above its table: what these records are, and the "new" button.
    fn list_intro() -> Markup;
    /// The table of a page of records.
    fn table(records: &[Self]) -> Markup;

    fn find(
        cx: &Context<'_>,
        id: Self::Id,
    ) -> impl Future<Output = Result<Self, ServiceError>> + Send;
    /// Creates a record from the submitted form; the content of the page that says so.
    fn create(cx: &Context<'_>, fields: &Fields)
    -> impl Future<Output = PageResult<Markup>> + Send;
    /// Saves the submitted form over the record.
    fn save(
        cx: &Context<'_>,
        id: Self::Id,
        fields: &Fields,
    ) -> impl Future<Output = PageResult<()>> + Send;
    fn delete(cx: &Context<'_>, id: Self::Id) -> impl Future<Output = PageResult<()>> + Send;

    /// The content of the page with the form for a new record.
    fn new_page(
        cx: &Context<'_>,
        values: &Self::Form,
        error: Option<&PageError>,
    ) -> impl Future<Output = Markup> + Send;
    /// The content of the record's page, its edit form showing `values`.
    fn detail_page(
        &self,
        cx: &Context<'_>,
        values: &Self::Form,
        error: Option<&PageError>,
    ) -> impl Future<Output = Markup> + Send;
}

/// `GET {LIST}`: a page of the records, newest first.
pub async fn list<R: Editable>(
    State(state): State<AppState>,
    session: Session,
    list: NewestFirst,
) -> PageResult<Response> {
    let cx = Context::new(&state, &session).await?;
    let listing = R::list(&cx, &list.query).await?;
    let flash = list.done("deleted").then_some(R::DELETED);
    let content = html! {
        h1 { (R::TITLE) }
        (R::list_intro())
        @if listing.items.is_empty() {
            p.muted { (R::NONE_YET) }
        } @else {
            (table_wrap(R::table(&listing.items)))
            (list.pager(R::LIST, listing.total))
        }
    };
    Ok(layout::page(R::TITLE, &session, R::SECTION, flash, content).into_response())
}

/// `GET {LIST}/new`: the empty form.
pub async fn new_form<R: Editable>(
    State(state): State<AppState>,
    session: Session,
) -> PageResult<Response> {
    let cx = Context::new(&state, &session).await?;
    let content = R::new_page(&cx, &R::blank(), None).await;
    Ok(layout::page(R::NEW_TITLE, &session, R::SECTION, None, content).into_response())
}

/// `POST {LIST}`: the created record's page, or the form again with what was wrong (422).
pub async fn create<R: Editable>(
    State(state): State<AppState>,
    form: Submitted,
) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let cx = Context::new(&state, &session).await?;
    match R::create(&cx, &fields).await {
        Ok(content) => {
            Ok(layout::page(R::CREATED_TITLE, &session, R::SECTION, None, content).into_response())
        }
        Err(error) if R::CREATE_REFUSALS.contains(&error.status) => {
            let content = R::new_page(&cx, &R::typed(&fields), Some(&error)).await;
            let page = layout::page(R::NEW_TITLE, &session, R::SECTION, None, content);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error),
    }
}

/// `GET {LIST}/{id}`: the record's page, with `flash` (what the last action did).
pub async fn show<R: Editable>(
    state: &AppState,
    session: &Session,
    id: &str,
    flash: Option<&str>,
) -> PageResult<Response> {
    let id = R::id(parse_id(id, R::NOUN)?);
    let cx = Context::new(state, session).await?;
    let record = R::find(&cx, id).await?;
    let content = record.detail_page(&cx, &record.values(), None).await;
    Ok(layout::page(record.name(), session, R::SECTION, flash, content).into_response())
}

/// `POST {LIST}/{id}`: back to the record's page, or it again with the form as typed and what
/// was wrong.
pub async fn save<R: Editable>(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let id = R::id(parse_id(&id, R::NOUN)?);
    let cx = Context::new(&state, &session).await?;
    match R::save(&cx, id, &fields).await {
        Ok(()) => Ok(Redirect::to(&format!("{}/{id}?done=saved", R::LIST)).into_response()),
        Err(error) if R::SAVE_REFUSALS.contains(&error.status) => {
            let record = R::find(&cx, id).await?;
            let content = record
                .detail_page(&cx, &R::typed(&fields), Some(&error))
                .await;
            let page = layout::page(record.name(), &session, R::SECTION, None, content);
            Ok((error.status, page).into_response())
        }
        Err(error) => Err(error),
    }
}

/// `POST {LIST}/{id}/delete`: back to the list, which says so.
pub async fn delete<R: Editable>(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let id = R::id(parse_id(&id, R::NOUN)?);
    let cx = Context::new(&state, &form.session).await?;
    R::delete(&cx, id).await?;
    Ok(Redirect::to(&format!("{}?done=deleted", R::LIST)).into_response())
}
