//! A branching ladder end to end, on every backend: individual-contributor and manager tracks
//! share three rungs; a person at the branch point is offered the next rung of their own track;
//! a lateral plan to the other branch counts the shared criteria as met; an assessment of a
//! shared criterion counts wherever it is expected; a promotion's default target is on the
//! person's own ladder; placing someone at a rung their track lacks is refused, whether by a
//! people import, an assignment or a promotion.

#![allow(clippy::unwrap_used)]

use rungs_app::{Actor, App, AssessInput, MatrixSource, Placement, Proposal};
use rungs_db::testing::{TestDb, backends};
use rungs_domain::assessment::Rating;
use rungs_domain::growth::ReasonKind;
use rungs_domain::person::Person;
use rungs_format::MatrixFormat;

const BRANCHING: &str = include_str!("../../rungs-format/tests/fixtures/branching.yaml");

const PEOPLE: &str = "\
email,name,manager_email,track,level,admin
hr@acme.test,Hana HR,,,,yes
lead@acme.test,Lee Lead,,manager,m5,
sam@acme.test,Sam Senior,lead@acme.test,ic,e3,
tess@acme.test,Tess Top,lead@acme.test,ic,e5,
";

fn actor(p: &Person) -> Actor {
    Actor::Person {
        id: p.id,
        org: p.org_id,
        is_admin: p.is_admin,
    }
}

async fn story(t: &TestDb) {
    let b = format!("{:?}", t.backend);
    let app = App::new(t.db.clone());
    let sys = Actor::system();
    app.create_org(&sys, "acme", "Acme").await.unwrap();
    let file = MatrixSource::File {
        text: BRANCHING,
        format: MatrixFormat::Yaml,
        name: "branching.yaml",
    };
    app.import_matrix(&sys, "acme", file, false).await.unwrap();

    // A people file that places someone on a rung their track lacks is refused whole.
    let bad = format!("{PEOPLE}mia@acme.test,Mia,lead@acme.test,ic,m4,\n");
    let err = app
        .import_people(&sys, "acme", &bad, "people.csv", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{b}");
    assert!(
        err.to_string()
            .contains("track `ic` has no level `m4`: its levels are e1 (Engineer I)"),
        "{b}: {err}"
    );
    assert!(
        app.person_by_email(&sys, "acme", "sam@acme.test")
            .await
            .is_err(),
        "{b}: nothing written"
    );
    app.import_people(&sys, "acme", PEOPLE, "people.csv", None)
        .await
        .unwrap();
    let who = |e: &'static str| {
        let app = app.clone();
        async move {
            app.person_by_email(&Actor::system(), "acme", e)
                .await
                .unwrap()
        }
    };
    let (lead, sam, tess) = (
        who("lead@acme.test").await,
        who("sam@acme.test").await,
        who("tess@acme.test").await,
    );
    // The manager ladder includes the trunk: Lee, on it at m5, manages.
    let lead_plan = app
        .growth_plan(&actor(&lead), "acme", lead.id, None)
        .await
        .unwrap();
    assert!(lead_plan.plan.top_of_track, "{b}");

    // At the branch point, the next rung is the person's own: e4, not m4.
    let plan = app
        .growth_plan(&actor(&sam), "acme", sam.id, None)
        .await
        .unwrap();
    assert_eq!(plan.plan.target.level.key.as_str(), "e4", "{b}");
    assert_eq!(plan.plan.target.titles, ["Senior Engineer"], "{b}");
    let r = app
        .readiness_of(&actor(&lead), "acme", sam.id)
        .await
        .unwrap();
    assert_eq!(
        r.readiness.target.as_ref().unwrap().level.key.as_str(),
        "e4",
        "{b}"
    );
    let msg = &r
        .readiness
        .reasons
        .iter()
        .find(|x| x.kind == ReasonKind::Expectations)
        .unwrap()
        .message;
    assert!(
        msg.starts_with("0 of 2 criteria new at Senior Engineer are met")
            && msg.contains("Shapes the technical direction of their team"),
        "{b}: criteria are named, not keyed: {msg}"
    );

    // The shared criterion, assessed once, counts on both ladders.
    app.assess(
        &actor(&lead),
        "acme",
        AssessInput {
            person: sam.id,
            expectation: "cross-team-influence",
            rating: Rating::Meets,
            evidence: "Aligned the payments and ledger teams on one event schema",
            links: vec![],
        },
    )
    .await
    .unwrap();
    let own = app
        .growth_plan(&actor(&sam), "acme", sam.id, None)
        .await
        .unwrap();
    assert_eq!((own.plan.met(), own.plan.total()), (7, 8), "{b}");
    // A lateral plan to the manager branch: the trunk's six criteria are held, the shared one
    // is met by the assessment, two manager criteria remain.
    let lateral = app
        .growth_plan(&actor(&sam), "acme", sam.id, Some(("manager", "m4")))
        .await
        .unwrap();
    assert!(lateral.plan.lateral, "{b}");
    assert_eq!((lateral.plan.met(), lateral.plan.total()), (7, 9), "{b}");
    let held = lateral.plan.items.iter().filter(|i| i.held).count();
    assert_eq!(held, 6, "{b}");
    let gaps: Vec<&str> = lateral
        .plan
        .gaps()
        .map(|i| i.expectation.key.as_str())
        .collect();
    assert_eq!(gaps, ["runs-one-on-ones", "hires-well"], "{b}");

    // A rung the track lacks is refused for a plan, an assignment and a promotion alike.
    let err = app
        .growth_plan(&actor(&sam), "acme", sam.id, Some(("ic", "m4")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{b}");
    let err = app
        .assign_level(
            &sys,
            "acme",
            "sam@acme.test",
            Placement {
                matrix: None,
                track: "ic",
                level: "m5",
                effective: None,
                reason: "typo",
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("track `ic` has no level `m5`"),
        "{b}: {err}"
    );
    let err = app
        .propose_promotion(
            &actor(&lead),
            "acme",
            Proposal {
                person: sam.id,
                target: Some(("ic", "m4")),
                justification: "wrong ladder",
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{b}");

    // The default promotion target is the next rung of the person's own ladder.
    let case = app
        .propose_promotion(
            &actor(&lead),
            "acme",
            Proposal {
                person: sam.id,
                target: None,
                justification: "Leads the ledger rewrite",
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (case.case.to.track.as_str(), case.case.to.level.as_str()),
        ("ic", "e4"),
        "{b}"
    );

    // The top of a track is the top: no readiness for a level beyond it.
    let top = app
        .readiness_of(&actor(&lead), "acme", tess.id)
        .await
        .unwrap();
    assert!(top.readiness.target.is_none(), "{b}");
    assert!(!top.readiness.ready, "{b}");
    assert!(
        top.readiness
            .reasons
            .iter()
            .any(|r| r.kind == ReasonKind::TopOfTrack),
        "{b}"
    );
    let err = app
        .propose_promotion(
            &actor(&lead),
            "acme",
            Proposal {
                person: tess.id,
                target: None,
                justification: "more",
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("holds the top level"),
        "{b}: {err}"
    );
}

/// An installation with matrices, people and assessments upgrades through the framework
/// migration: every expectation keeps its cell (now a link), versions stay published and
/// frozen, and plans read the same before and after.
#[tokio::test]
async fn existing_data_survives_the_framework_migration_on_every_backend() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        let b = format!("{backend:?}");
        let app = App::new(t.db.clone());
        let sys = Actor::system();
        app.create_org(&sys, "acme", "Acme").await.unwrap();
        app.import_matrix(&sys, "acme", MatrixSource::Template("python"), false)
            .await
            .unwrap();
        let people = "email,name,manager_email,track,level,admin\n\
                      mgr@acme.test,Max,,python-developer,expert,\n\
                      emp@acme.test,Emma,mgr@acme.test,python-developer,beginner,\n";
        app.import_people(&sys, "acme", people, "people.csv", None)
            .await
            .unwrap();
        let mgr = app
            .person_by_email(&sys, "acme", "mgr@acme.test")
            .await
            .unwrap();
        let emp = app
            .person_by_email(&sys, "acme", "emp@acme.test")
            .await
            .unwrap();
        // A criterion the next level adds (not one already held).
        let first = app
            .growth_plan(&sys, "acme", emp.id, None)
            .await
            .unwrap()
            .plan
            .gaps()
            .next()
            .unwrap()
            .expectation
            .key
            .to_string();
        app.assess(
            &actor(&mgr),
            "acme",
            AssessInput {
                person: emp.id,
                expectation: &first,
                rating: Rating::Meets,
                evidence: "seen in review",
                links: vec![],
            },
        )
        .await
        .unwrap();
        let (_, before) = app
            .matrix_version(&sys, "acme", "python", rungs_app::VersionRef::Latest)
            .await
            .unwrap();
        let plan_before = app.growth_plan(&sys, "acme", emp.id, None).await.unwrap();

        t.redo_migrations(1).await;

        let (info, after) = app
            .matrix_version(&sys, "acme", "python", rungs_app::VersionRef::Latest)
            .await
            .unwrap();
        assert_eq!(after, before, "{b}");
        assert_eq!(info.number, Some(1), "{b}");
        let plan_after = app.growth_plan(&sys, "acme", emp.id, None).await.unwrap();
        assert_eq!(plan_after.plan, plan_before.plan, "{b}");
        let rated = plan_after
            .plan
            .items
            .iter()
            .find(|i| i.expectation.key.as_str() == first)
            .unwrap();
        assert!(
            rated.manager.is_some() && rated.is_met() && !rated.held,
            "{b}: the assessment still counts"
        );
        t.drop_database().await;
    }
}

#[tokio::test]
async fn a_branching_ladder_on_every_backend() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        story(&t).await;
        t.drop_database().await;
    }
}
