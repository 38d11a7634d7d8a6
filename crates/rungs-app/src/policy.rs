//! Who may do what: the one place authorization is decided. Every use case calls
//! [`authorize`] before touching data. The organisation always comes from the actor (a verified
//! token, or the CLI's explicit system actor), never from a request argument; a person acting
//! on another organisation gets the same answer as for something that does not exist.

use crate::AppError;
use rungs_domain::{OrgId, PersonId};

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator at the command line: trusted with every organisation.
    System,
    /// A signed-in person of one organisation.
    Person {
        id: PersonId,
        org: OrgId,
        is_admin: bool,
    },
}

impl Actor {
    pub fn system() -> Self {
        Self::System
    }
}

/// What is being attempted, with the organisation it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateOrganisation,
    ListOrganisations,
    /// Read one organisation's name and slug.
    ReadOrganisation(OrgId),
    ListPeople(OrgId),
    ImportPeople(OrgId),
    ImportMatrix(OrgId),
    /// Read published matrices (list, show, export).
    ReadMatrices(OrgId),
    AssignLevel(OrgId),
}

impl Action {
    fn org(self) -> Option<OrgId> {
        match self {
            Self::CreateOrganisation | Self::ListOrganisations => None,
            Self::ReadOrganisation(o)
            | Self::ListPeople(o)
            | Self::ImportPeople(o)
            | Self::ImportMatrix(o)
            | Self::ReadMatrices(o)
            | Self::AssignLevel(o) => Some(o),
        }
    }
}

/// Allows or refuses `action` for `actor`.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), AppError> {
    let Actor::Person { org, is_admin, .. } = actor else {
        return Ok(());
    };
    match action.org() {
        // Creating or listing every organisation is for operators only.
        None => Err(AppError::Forbidden(
            "only an operator can manage organisations".into(),
        )),
        // Another organisation does not exist, as far as this actor can tell.
        Some(target) if target != *org => Err(AppError::NotFound("organisation".into())),
        Some(_) => match action {
            Action::ReadOrganisation(_) | Action::ReadMatrices(_) => Ok(()),
            _ if *is_admin => Ok(()),
            _ => Err(AppError::Forbidden("this needs an HR admin".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy as a table: every action, for each kind of actor, on their own organisation
    /// and on another one.
    #[test]
    fn policy_table() {
        let (mine, other) = (OrgId::new(), OrgId::new());
        let admin = Actor::Person {
            id: PersonId::new(),
            org: mine,
            is_admin: true,
        };
        let employee = Actor::Person {
            id: PersonId::new(),
            org: mine,
            is_admin: false,
        };
        #[derive(Debug, PartialEq)]
        enum R {
            Ok,
            Forbidden,
            NotFound,
        }
        let check = |actor: &Actor, action| match authorize(actor, action) {
            Ok(()) => R::Ok,
            Err(AppError::Forbidden(_)) => R::Forbidden,
            Err(AppError::NotFound(_)) => R::NotFound,
            Err(e) => panic!("{e}"),
        };
        use Action::*;
        let table: Vec<(Action, R, R, R)> = vec![
            // action, system, admin, employee
            (CreateOrganisation, R::Ok, R::Forbidden, R::Forbidden),
            (ListOrganisations, R::Ok, R::Forbidden, R::Forbidden),
            (ReadOrganisation(mine), R::Ok, R::Ok, R::Ok),
            (ListPeople(mine), R::Ok, R::Ok, R::Forbidden),
            (ImportPeople(mine), R::Ok, R::Ok, R::Forbidden),
            (ImportMatrix(mine), R::Ok, R::Ok, R::Forbidden),
            (ReadMatrices(mine), R::Ok, R::Ok, R::Ok),
            (AssignLevel(mine), R::Ok, R::Ok, R::Forbidden),
            (ReadOrganisation(other), R::Ok, R::NotFound, R::NotFound),
            (ListPeople(other), R::Ok, R::NotFound, R::NotFound),
            (ImportPeople(other), R::Ok, R::NotFound, R::NotFound),
            (ImportMatrix(other), R::Ok, R::NotFound, R::NotFound),
            (ReadMatrices(other), R::Ok, R::NotFound, R::NotFound),
            (AssignLevel(other), R::Ok, R::NotFound, R::NotFound),
        ];
        for (action, system, adm, emp) in table {
            assert_eq!(check(&Actor::system(), action), system, "system {action:?}");
            assert_eq!(check(&admin, action), adm, "admin {action:?}");
            assert_eq!(check(&employee, action), emp, "employee {action:?}");
        }
    }
}
