//! What the tests of the crates above share (the `testing` feature): two organisations with
//! the same three roles, so that every test of separation between tenants starts alike.

#![allow(clippy::unwrap_used)]

use crate::demo::{DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_MANAGER, DEMO_PASSWORD};
use crate::{Actor, App};

/// The second organisation: the same roles, other people.
pub const BETA_PEOPLE: &str = "\
email,name,manager_email,track,level,admin
hr@beta.test,Bea HR,,,,yes
manager@beta.test,Ben Manager,,python-developer,expert,
employee@beta.test,Bo Employee,manager@beta.test,python-developer,beginner,
bystander@beta.test,Bix Bystander,,data-analyst,beginner,
";

/// The demo organisation (12 people) and the `beta` organisation, with passwords.
pub async fn seed_two_orgs(app: &App) {
    let sys = Actor::system();
    app.seed_demo(&sys, 12).await.unwrap();
    app.create_org(&sys, "beta", "Beta Ltd").await.unwrap();
    app.import_matrix(&sys, "beta", crate::MatrixSource::Template("python"), false)
        .await
        .unwrap();
    app.import_people(&sys, "beta", BETA_PEOPLE, "beta.csv", None)
        .await
        .unwrap();
    for email in ["hr@beta.test", "manager@beta.test", "employee@beta.test"] {
        app.set_password(&sys, "beta", email, DEMO_PASSWORD.to_owned().into())
            .await
            .unwrap();
    }
    // Beta's manager has proposed their employee, as in the demo.
    let beta = app.organisation(&sys, "beta").await.unwrap();
    let find = |email: &str| {
        let (app, email) = (app.clone(), email.to_owned());
        async move {
            app.db()
                .person_by_email(
                    beta.id,
                    &rungs_domain::person::Email::parse(&email).unwrap(),
                )
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (manager, employee) = (
        find("manager@beta.test").await,
        find("employee@beta.test").await,
    );
    let as_manager = Actor::Person {
        id: manager.id,
        org: beta.id,
        is_admin: false,
    };
    app.propose_promotion(
        &as_manager,
        "beta",
        crate::Proposal {
            person: employee.id,
            target: None,
            justification: "ready for intermediate",
        },
    )
    .await
    .unwrap();
}

/// The roles of one organisation: (admin, manager, employee) emails.
pub fn roles(org: &str) -> (&'static str, &'static str, &'static str) {
    match org {
        "demo" => (DEMO_ADMIN, DEMO_MANAGER, DEMO_EMPLOYEE),
        _ => ("hr@beta.test", "manager@beta.test", "employee@beta.test"),
    }
}
