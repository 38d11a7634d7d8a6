//! HR's changes to people: add a person (with their first position, in one transaction), and
//! on a person's page edit their name, manager, HR-admin flag and whether they are active, and
//! place them on a position from a date with a reason. The use cases and the policy are the
//! API's; anyone but an HR admin gets the plain 404. A change that cannot be saved shows the
//! form again with the reason and what was typed.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::explore::{PositionOption, positions};
use crate::pages::team::{person_id, person_page};
use crate::session::Signed;
use askama::Template;
use axum::extract::{Form, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use rungs_app::{AppError, NewPersonInput, NewPlacement, PersonChanges, Placement};
use rungs_domain::PersonId;
use rungs_domain::person::Person;
use serde::Deserialize;

/// What the person page's HR section shows and keeps.
pub(crate) struct ManageView {
    pub name: String,
    pub email: String,
    pub manager: String,
    pub admin: bool,
    pub active: bool,
    pub positions: Vec<PositionOption>,
    pub effective: String,
    pub reason: String,
    /// Why the last edit was not saved.
    pub problem: Option<String>,
    /// Why the last placement was not saved.
    pub place_problem: Option<String>,
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

/// The HR section of `person`'s page, when the caller manages people.
pub(crate) async fn view(
    s: &Signed,
    person: &Person,
    current: Option<&str>,
) -> Result<Option<ManageView>, WebError> {
    if s.reader.may_manage_people().is_err() {
        return Ok(None);
    }
    let manager = match person.manager_id {
        Some(m) => s
            .reader
            .named(&[m])
            .await
            .map_err(WebError::read)?
            .remove(&m)
            .map_or_else(String::new, |p| p.email.as_str().to_owned()),
        None => String::new(),
    };
    let positions = match s.reader.matrix().await {
        Ok((_, m)) => positions(&m, current, current),
        Err(_) => Vec::new(),
    };
    Ok(Some(ManageView {
        name: person.display_name.clone(),
        email: person.email.as_str().to_owned(),
        manager,
        admin: person.is_admin,
        active: person.active,
        positions,
        effective: today(),
        reason: String::new(),
        problem: None,
        place_problem: None,
    }))
}

/// A manager's email as a person of the caller's organisation (`None` for an empty field).
async fn manager_by_email(
    st: &crate::WebState,
    s: &Signed,
    email: &str,
) -> Result<Option<PersonId>, AppError> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::pages::person_by_email(st, s, email).await?.id))
}

/// A date field (`YYYY-MM-DD`; `None` when empty).
fn date(raw: &str) -> Result<Option<NaiveDate>, AppError> {
    crate::pages::date_field(raw).map_err(AppError::Invalid)
}

#[derive(Deserialize)]
pub(crate) struct EditForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    manager: String,
    /// "1" when checked.
    #[serde(default)]
    admin: String,
    #[serde(default)]
    active: String,
}

/// `POST /people/{id}/edit`
pub(crate) async fn edit(
    st: State,
    s: Signed,
    Path(raw): Path<String>,
    Form(f): Form<EditForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    s.reader.may_manage_people().map_err(WebError::read)?;
    let id = person_id(&raw)?;
    let result = async {
        let manager = manager_by_email(&st, &s, &f.manager).await?;
        let changes = PersonChanges {
            display_name: Some(f.name.clone()),
            manager: Some(manager),
            is_admin: Some(f.admin == "1"),
            active: Some(f.active == "1"),
        };
        st.app
            .update_person(&s.session.actor, s.session.org.slug.as_str(), id, changes)
            .await
    }
    .await;
    let why = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/people/{id}?done=updated")).into_response()),
        Err(e) => WebError::refusal(e)?,
    };
    let mut page = person_page(&st, &s, id).await?;
    if let Some(m) = &mut page.manage {
        m.problem = Some(why);
        m.name = f.name;
        m.manager = f.manager;
        m.admin = f.admin == "1";
        m.active = f.active == "1";
    }
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(Deserialize)]
pub(crate) struct PlaceForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    /// `track/level`
    #[serde(default)]
    position: String,
    #[serde(default)]
    effective: String,
    #[serde(default)]
    reason: String,
}

/// `POST /people/{id}/place`
pub(crate) async fn place(
    st: State,
    s: Signed,
    Path(raw): Path<String>,
    Form(f): Form<PlaceForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    s.reader.may_manage_people().map_err(WebError::read)?;
    let id = person_id(&raw)?;
    let result = async {
        let (track, level) = f
            .position
            .split_once('/')
            .ok_or_else(|| AppError::Invalid("choose a position".into()))?;
        let placement = Placement {
            matrix: None,
            track,
            level,
            effective: date(&f.effective)?,
            reason: f.reason.trim(),
        };
        st.app
            .assign_level_by_id(&s.session.actor, s.session.org.slug.as_str(), id, placement)
            .await
    }
    .await;
    let why = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/people/{id}?done=placed")).into_response()),
        Err(e) => WebError::refusal(e)?,
    };
    let mut page = person_page(&st, &s, id).await?;
    if let Some(m) = &mut page.manage {
        m.place_problem = Some(why);
        m.effective = f.effective;
        m.reason = f.reason;
        for p in &mut m.positions {
            p.selected = p.value == f.position;
        }
    }
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(Template)]
#[template(path = "person_new.html")]
struct NewPersonPage {
    layout: Layout,
    csrf: String,
    email: String,
    name: String,
    manager: String,
    admin: bool,
    positions: Vec<PositionOption>,
    effective: String,
    reason: String,
    problem: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct NewPersonForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    manager: String,
    #[serde(default)]
    admin: String,
    /// `track/level`, or empty for no position yet.
    #[serde(default)]
    position: String,
    #[serde(default)]
    effective: String,
    #[serde(default)]
    reason: String,
}

async fn new_person_page(s: &Signed, f: &NewPersonForm) -> NewPersonPage {
    let chosen = Some(f.position.as_str()).filter(|p| !p.is_empty());
    NewPersonPage {
        layout: Layout::signed("Add a person", s, "people"),
        csrf: s.csrf.clone(),
        email: f.email.clone(),
        name: f.name.clone(),
        manager: f.manager.clone(),
        admin: f.admin == "1",
        positions: match s.reader.matrix().await {
            Ok((_, m)) => positions(&m, chosen, None),
            Err(_) => Vec::new(),
        },
        effective: if f.effective.is_empty() {
            today()
        } else {
            f.effective.clone()
        },
        reason: if f.reason.is_empty() {
            "joined".to_owned()
        } else {
            f.reason.clone()
        },
        problem: None,
    }
}

/// `GET /people/new`
pub(crate) async fn new_form(s: Signed) -> Result<Response, WebError> {
    s.reader.may_manage_people().map_err(WebError::read)?;
    let page = new_person_page(&s, &NewPersonForm::default()).await;
    Ok(render(StatusCode::OK, &page))
}

/// `POST /people/new`: the person and their first position, in one transaction.
pub(crate) async fn add(
    st: State,
    s: Signed,
    Form(f): Form<NewPersonForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    s.reader.may_manage_people().map_err(WebError::read)?;
    let result = async {
        let manager = manager_by_email(&st, &s, &f.manager).await?;
        let placement = match f.position.split_once('/') {
            Some((track, level)) => Some(NewPlacement {
                track: track.to_owned(),
                level: level.to_owned(),
                effective: date(&f.effective)?,
                reason: f.reason.trim().to_owned(),
            }),
            None => None,
        };
        st.app
            .add_person(
                &s.session.actor,
                s.session.org.slug.as_str(),
                NewPersonInput {
                    email: f.email.trim().to_owned(),
                    display_name: f.name.clone(),
                    manager,
                    is_admin: f.admin == "1",
                    placement,
                },
            )
            .await
    }
    .await;
    let why = match result {
        Ok(p) => {
            return Ok(Redirect::to(&format!("/people/{}?done=added", p.id)).into_response());
        }
        Err(AppError::Conflict(_)) => format!(
            "someone in this organisation already has the email {}",
            f.email.trim()
        ),
        Err(e) => WebError::refusal(e)?,
    };
    let mut page = new_person_page(&s, &f).await;
    page.problem = Some(why);
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
