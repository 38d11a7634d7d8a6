//! Who may do what: the one place authorization is decided. Every use case calls
//! [`authorize`] before touching data. The organisation always comes from the actor (a verified
//! token, or the CLI's explicit system actor), never from a request argument; a person acting
//! on another organisation gets the same answer as for something that does not exist.
//!
//! The rules:
//! - an operator (the CLI's system actor) may do everything;
//! - everyone reads their organisation and its published matrices, and their own record and
//!   level history;
//! - a manager also reads the records and histories of their direct and indirect reports;
//!   the same lines decide who reads growth plans, assessments, teams and promotion cases;
//! - only the person and their managers assess them, and only a manager proposes their
//!   promotion: being an HR admin does not make someone an assessor or a proposer;
//! - an HR admin reads and writes everything else in their own organisation, decides
//!   promotion cases and sets the readiness rule;
//! - nobody reads or writes another organisation.

use crate::AppError;
use rungs_db::Reach;
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
    /// A SCIM client (an identity provider or HR system) with one of the organisation's
    /// provisioning tokens: it reads and manages people, nothing else.
    Provisioner {
        org: OrgId,
        token: rungs_domain::ScimTokenId,
        /// The token's name, for audit entries.
        name: String,
    },
}

impl Actor {
    pub fn system() -> Self {
        Self::System
    }

    /// The person acting, if it is one.
    pub fn person_id(&self) -> Option<PersonId> {
        match self {
            Self::System | Self::Provisioner { .. } => None,
            Self::Person { id, .. } => Some(*id),
        }
    }

    /// How an audit entry names an actor that is not a person: the provisioning token (by name
    /// and id); empty for people and the operator.
    pub fn via(&self) -> String {
        match self {
            Self::Provisioner { token, name, .. } => format!(" (by SCIM token \"{name}\" {token})"),
            _ => String::new(),
        }
    }
}

/// How the actor stands to the person a record is about; computed by the use case from the
/// reporting lines, judged here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The record is the actor's own.
    Myself,
    /// The actor manages the person, directly or indirectly.
    Manager,
    /// Anyone else in the organisation.
    Unrelated,
}

/// What is being attempted, with the organisation it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateOrganisation,
    ListOrganisations,
    /// Export or import a whole organisation (the export holds password hashes).
    MoveOrganisation,
    /// Read one organisation's name and slug.
    ReadOrganisation(OrgId),
    /// Read published matrices (list, show).
    ReadMatrices(OrgId),
    /// Export a matrix to a file.
    ExportMatrix(OrgId),
    ImportMatrix(OrgId),
    /// Read, edit, discard and publish a matrix's draft; compare versions with it.
    EditMatrix(OrgId),
    /// Move people to another version of their matrix (assignments and assessments follow).
    MovePeople(OrgId),
    /// List everyone at once (the admin listing and the people import's checks).
    ListPeople(OrgId),
    /// Read one person's record, and their level history.
    ReadPerson(OrgId, Relation),
    /// Add, update, deactivate and import people.
    ManagePeople(OrgId),
    AssignLevel(OrgId),
    /// Set passwords and issue tokens.
    ManageCredentials(OrgId),
    /// Read a person's assessments, growth plan, readiness and career history.
    ReadGrowth(OrgId, Relation),
    /// Rate a person against an expectation (the relation decides self or manager rating).
    Assess(OrgId, Relation),
    /// See a manager's team (the relation is to that manager).
    ReadTeam(OrgId, Relation),
    /// The level distribution across the organisation or a subtree.
    Calibrate(OrgId),
    /// Read a promotion case (the relation is to the person it is about).
    ReadCase(OrgId, Relation),
    /// Comment on, or withdraw (the domain checks the proposer), a case one may read.
    CommentOnCase(OrgId, Relation),
    ProposePromotion(OrgId, Relation),
    /// Approve or reject a case (the domain adds: never one's own, never one's own proposal).
    DecidePromotion(OrgId),
    ConfigureReadiness(OrgId),
    /// Read the audit log.
    ReadAudit(OrgId),
    /// Read and change how people sign in: the identity provider for single sign-on.
    ConfigureSignIn(OrgId),
}

impl Action {
    fn org(self) -> Option<OrgId> {
        match self {
            Self::CreateOrganisation | Self::ListOrganisations | Self::MoveOrganisation => None,
            Self::ReadOrganisation(o)
            | Self::ReadMatrices(o)
            | Self::ExportMatrix(o)
            | Self::ImportMatrix(o)
            | Self::EditMatrix(o)
            | Self::MovePeople(o)
            | Self::ListPeople(o)
            | Self::ReadPerson(o, _)
            | Self::ManagePeople(o)
            | Self::AssignLevel(o)
            | Self::ManageCredentials(o)
            | Self::ReadGrowth(o, _)
            | Self::Assess(o, _)
            | Self::ReadTeam(o, _)
            | Self::Calibrate(o)
            | Self::ReadCase(o, _)
            | Self::CommentOnCase(o, _)
            | Self::ProposePromotion(o, _)
            | Self::DecidePromotion(o)
            | Self::ConfigureReadiness(o)
            | Self::ReadAudit(o)
            | Self::ConfigureSignIn(o) => Some(o),
        }
    }
}

/// Allows or refuses `action` for `actor`.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), AppError> {
    let (org, is_admin) = match actor {
        Actor::System => return Ok(()),
        Actor::Person { org, is_admin, .. } => (org, is_admin),
        Actor::Provisioner { org, .. } => {
            return match action.org() {
                Some(target) if target != *org => Err(AppError::NotFound("organisation".into())),
                Some(_) => match action {
                    Action::ReadOrganisation(_)
                    | Action::ListPeople(_)
                    | Action::ReadPerson(..)
                    | Action::ManagePeople(_) => Ok(()),
                    _ => Err(AppError::Forbidden(
                        "a provisioning token manages people and nothing else".into(),
                    )),
                },
                None => Err(AppError::Forbidden(
                    "only an operator can manage organisations".into(),
                )),
            };
        }
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
            Action::ReadPerson(_, Relation::Myself | Relation::Manager)
            | Action::ReadGrowth(_, Relation::Myself | Relation::Manager)
            | Action::ReadTeam(_, Relation::Myself | Relation::Manager)
            | Action::ReadCase(_, Relation::Myself | Relation::Manager)
            | Action::CommentOnCase(_, Relation::Myself | Relation::Manager)
            | Action::Assess(_, Relation::Myself | Relation::Manager)
            | Action::ProposePromotion(_, Relation::Manager) => Ok(()),
            Action::Assess(..) => Err(AppError::Forbidden(
                "only the person and their managers can assess them".into(),
            )),
            Action::ProposePromotion(..) => Err(AppError::Forbidden(
                "only a manager of the person can propose their promotion".into(),
            )),
            _ if *is_admin => Ok(()),
            Action::ReadPerson(_, Relation::Unrelated)
            | Action::ReadGrowth(_, Relation::Unrelated)
            | Action::ReadTeam(_, Relation::Unrelated)
            | Action::ReadCase(_, Relation::Unrelated)
            | Action::CommentOnCase(_, Relation::Unrelated) => Err(AppError::Forbidden(
                "only the person, their managers and HR admins can see this".into(),
            )),
            _ => Err(AppError::Forbidden("this needs an HR admin".into())),
        },
    }
}

/// Whose records a listing of people may hold: everyone, for those who may list people (HR
/// admins, the operator); otherwise the actor and everyone below them in the reporting lines
/// (an employee without reports: themselves).
pub fn people_reach(actor: &Actor, org: OrgId) -> Result<Reach, AppError> {
    match (authorize(actor, Action::ListPeople(org)), actor) {
        (Ok(()), _) => Ok(Reach::Everyone),
        (Err(_), Actor::Person { id, org: own, .. }) if *own == org => Ok(Reach::LinesOf(*id)),
        (Err(e), _) => Err(e),
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
        let person = |is_admin| Actor::Person {
            id: PersonId::new(),
            org: mine,
            is_admin,
        };
        let (admin, employee) = (person(true), person(false));
        #[derive(Debug, PartialEq, Clone, Copy)]
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
        use R::{Forbidden as F, NotFound as N, Ok as Y};
        use Relation::*;
        // The same action on the own organisation: system, admin, employee.
        let own: Vec<(Action, R, R, R)> = vec![
            (CreateOrganisation, Y, F, F),
            (ListOrganisations, Y, F, F),
            (MoveOrganisation, Y, F, F),
            (ReadOrganisation(mine), Y, Y, Y),
            (ReadMatrices(mine), Y, Y, Y),
            (ExportMatrix(mine), Y, Y, F),
            (ImportMatrix(mine), Y, Y, F),
            (EditMatrix(mine), Y, Y, F),
            (MovePeople(mine), Y, Y, F),
            (ListPeople(mine), Y, Y, F),
            (ReadPerson(mine, Myself), Y, Y, Y),
            (ReadPerson(mine, Manager), Y, Y, Y),
            (ReadPerson(mine, Unrelated), Y, Y, F),
            (ManagePeople(mine), Y, Y, F),
            (AssignLevel(mine), Y, Y, F),
            (ManageCredentials(mine), Y, Y, F),
            (ReadGrowth(mine, Myself), Y, Y, Y),
            (ReadGrowth(mine, Manager), Y, Y, Y),
            (ReadGrowth(mine, Unrelated), Y, Y, F),
            (Assess(mine, Myself), Y, Y, Y),
            (Assess(mine, Manager), Y, Y, Y),
            (Assess(mine, Unrelated), Y, F, F),
            (ReadTeam(mine, Myself), Y, Y, Y),
            (ReadTeam(mine, Manager), Y, Y, Y),
            (ReadTeam(mine, Unrelated), Y, Y, F),
            (Calibrate(mine), Y, Y, F),
            (ReadCase(mine, Myself), Y, Y, Y),
            (ReadCase(mine, Manager), Y, Y, Y),
            (ReadCase(mine, Unrelated), Y, Y, F),
            (CommentOnCase(mine, Myself), Y, Y, Y),
            (CommentOnCase(mine, Manager), Y, Y, Y),
            (CommentOnCase(mine, Unrelated), Y, Y, F),
            (ProposePromotion(mine, Myself), Y, F, F),
            (ProposePromotion(mine, Manager), Y, Y, Y),
            (ProposePromotion(mine, Unrelated), Y, F, F),
            (DecidePromotion(mine), Y, Y, F),
            (ConfigureReadiness(mine), Y, Y, F),
            (ReadAudit(mine), Y, Y, F),
            (ConfigureSignIn(mine), Y, Y, F),
        ];
        // A provisioning token reads and manages its organisation's people, nothing else.
        let provisioner = Actor::Provisioner {
            org: mine,
            token: rungs_domain::ScimTokenId::new(),
            name: "idp".into(),
        };
        for (action, system, adm, emp) in own {
            assert_eq!(check(&Actor::system(), action), system, "system {action:?}");
            assert_eq!(check(&admin, action), adm, "admin {action:?}");
            assert_eq!(check(&employee, action), emp, "employee {action:?}");
            let scim = match action {
                ReadOrganisation(_) | ListPeople(_) | ReadPerson(..) | ManagePeople(_) => Y,
                _ => F,
            };
            assert_eq!(check(&provisioner, action), scim, "provisioner {action:?}");
        }
        // Every organisation-scoped action on another organisation: only the operator.
        let elsewhere = [
            ReadOrganisation(other),
            ReadMatrices(other),
            ExportMatrix(other),
            ImportMatrix(other),
            EditMatrix(other),
            MovePeople(other),
            ListPeople(other),
            ReadPerson(other, Myself),
            ReadPerson(other, Manager),
            ReadPerson(other, Unrelated),
            ManagePeople(other),
            AssignLevel(other),
            ManageCredentials(other),
            ReadGrowth(other, Manager),
            Assess(other, Manager),
            ReadTeam(other, Myself),
            Calibrate(other),
            ReadCase(other, Manager),
            CommentOnCase(other, Manager),
            ProposePromotion(other, Manager),
            DecidePromotion(other),
            ConfigureReadiness(other),
            ReadAudit(other),
            ConfigureSignIn(other),
        ];
        for action in elsewhere {
            assert_eq!(check(&provisioner, action), N, "provisioner {action:?}");
            assert_eq!(check(&Actor::system(), action), Y, "system {action:?}");
            assert_eq!(check(&admin, action), N, "admin {action:?}");
            assert_eq!(check(&employee, action), N, "employee {action:?}");
        }
    }
}
