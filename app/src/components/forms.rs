//! Plain HTML forms for the `/ui` actions (they work without JavaScript: the browser posts, the
//! server answers 302 back to `return_to` with a flash message).
//!
//! Rows can't hold their own `<form>` inside the selection form, so per-row buttons and the
//! selection checkboxes point at forms rendered once per page through the `form="..."`
//! attribute. Only the clicked button's `name=value` is sent, so a row button acts on its row
//! alone even when boxes are checked.
//!
//! Every form here renders only when the caller's role may post to its URL
//! (`crate::auth::may_post`): a viewer sees no action buttons, an operator no admin ones.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::actions::{CancelJobs, DeleteJobs, EnqueueNowJobs, RequeueJobs};

/// A job action that can be applied to rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RowAction {
    Requeue,
    EnqueueNow,
    Cancel,
    Delete,
}

impl RowAction {
    pub fn slug(self) -> &'static str {
        match self {
            RowAction::Requeue => "requeue",
            RowAction::EnqueueNow => "enqueue-now",
            RowAction::Cancel => "cancel",
            RowAction::Delete => "delete",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RowAction::Requeue => "Requeue",
            RowAction::EnqueueNow => "Enqueue now",
            RowAction::Cancel => "Cancel",
            RowAction::Delete => "Delete",
        }
    }
    pub fn url(self) -> &'static str {
        match self {
            RowAction::Requeue => RequeueJobs::PATH,
            RowAction::EnqueueNow => EnqueueNowJobs::PATH,
            RowAction::Cancel => CancelJobs::PATH,
            RowAction::Delete => DeleteJobs::PATH,
        }
    }
    pub fn danger(self) -> bool {
        matches!(self, RowAction::Cancel | RowAction::Delete)
    }
    /// The hidden form a row's button submits through.
    pub fn row_form_id(self) -> &'static str {
        match self {
            RowAction::Requeue => "row-requeue",
            RowAction::EnqueueNow => "row-enqueue-now",
            RowAction::Cancel => "row-cancel",
            RowAction::Delete => "row-delete",
        }
    }
}

/// `<input type=hidden name=return_to>`.
#[component]
pub fn ReturnTo(to: String) -> impl IntoView {
    view! { <input type="hidden" name="return_to" value=to/> }
}

/// The hidden per-row forms plus the selection form with one button per action.
#[component]
pub fn RowForms(actions: Vec<RowAction>, return_to: String) -> impl IntoView {
    let actions: Vec<RowAction> = actions
        .into_iter()
        .filter(|a| crate::auth::may_post(a.url()))
        .collect();
    let first = actions.first().copied();
    view! {
        {actions.iter().map(|a| view! {
            <form id=a.row_form_id() class="hidden-form" method="post" action=crate::url::href(a.url())>
                <ReturnTo to=return_to.clone()/>
            </form>
        }).collect_view()}
        {first.map(|first| view! {
            <form id="selection" class="selection-bar" method="post" action=crate::url::href(first.url())>
                <ReturnTo to=return_to.clone()/>
                <span>"Selected: "</span>
                {actions.iter().map(|a| view! {
                    <button
                        type="submit"
                        class="btn small"
                        class:danger=a.danger()
                        formaction=crate::url::href(a.url())
                        data-testid=format!("selected-{}", a.slug())
                    >
                        {a.label()}
                    </button>
                }).collect_view()}
            </form>
        })}
    }
}

/// One row's button for `action` on job `id`.
#[component]
pub fn RowButton(action: RowAction, id: std::sync::Arc<str>) -> impl IntoView {
    crate::auth::may_post(action.url()).then(|| {
        view! {
            <button
                type="submit"
                class="btn small"
                class:danger=action.danger()
                form=action.row_form_id()
                name="ids[]"
                data-testid=format!("{}-{id}", action.slug())
                value=id
            >
                {action.label()}
            </button>
        }
    })
}

/// The second step of a bulk action: states the exact count and posts it as `expected`, so
/// the server refuses if the count changed meanwhile. `cancel_href` is the page without
/// `?confirm=`.
#[component]
pub fn ConfirmPanel(
    question: String,
    action_url: &'static str,
    button: String,
    expected: u64,
    #[prop(optional)] queue: Option<String>,
    /// Other hidden fields (name, value), e.g. a failure group's fingerprint.
    #[prop(optional)]
    fields: Vec<(&'static str, String)>,
    return_to: String,
    cancel_href: String,
) -> impl IntoView {
    crate::auth::may_post(action_url).then(|| view! {
        <section class="panel confirm" data-testid="confirm-panel">
            <p class="question">{question}</p>
            <form method="post" action=crate::url::href(action_url)>
                <ReturnTo to=return_to/>
                <input type="hidden" name="expected" value=expected.to_string()/>
                {queue.map(|q| view! { <input type="hidden" name="queue" value=q/> })}
                {fields.into_iter().map(|(name, value)| view! {
                    <input type="hidden" name=name value=value/>
                }).collect_view()}
                <button type="submit" class="btn danger" data-testid="confirm-submit">{button}</button>
                " "
                <a class="btn" href=crate::url::href(&cancel_href) data-testid="confirm-cancel">"Cancel"</a>
            </form>
        </section>
    })
}

/// A one-button form posting `fields` (name, value) to `url`.
#[component]
pub fn PostButton(
    url: &'static str,
    label: String,
    fields: Vec<(&'static str, String)>,
    return_to: String,
    testid: String,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    crate::auth::may_post(url).then(|| view! {
        <form class="inline" method="post" action=crate::url::href(url)>
            <ReturnTo to=return_to/>
            {fields.into_iter().map(|(name, value)| view! {
                <input type="hidden" name=name value=value/>
            }).collect_view()}
            <button type="submit" class="btn small" class:danger=danger data-testid=testid>{label}</button>
        </form>
    })
}
