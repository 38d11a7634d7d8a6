//! Matrix versions against real databases (SQLite always; PostgreSQL and MariaDB when their
//! URLs are set): version 1 is published and people assessed; HR edits the draft field by field
//! (a renamed and a split expectation, a new one), loses a concurrent edit with CONFLICT,
//! publishes version 2; the database refuses to change version 1; a dry run with a mapping file
//! reports who gains gaps and writes nothing; the move carries assessments over, and growth
//! plans and history are right afterwards.

#![allow(clippy::unwrap_used)]

use rungs_app::{
    Actor, App, AppError, AssessInput, ImportOutcome, MatrixSource, Proposal, VersionRef,
};
use rungs_db::Scope;
use rungs_db::testing::{TestDb, backends};
use rungs_domain::assessment::Rating;
use rungs_domain::diff::{ChangeKind, Entity};
use rungs_domain::edit::{ExpectationPatch, MatrixEdit, Patch};
use rungs_domain::growth::ExpectationStatus;
use rungs_domain::matrix::ExpectationDraft;
use rungs_domain::person::Person;
use rungs_format::MatrixFormat;
use rungs_format::mapping::parse_mapping;
use sea_orm::ConnectionTrait;

const PEOPLE: &str = "\
email,name,manager_email,track,level,admin
hr@acme.test,Hana HR,,,,yes
mgr@acme.test,Max Manager,,python-developer,expert,
emp@acme.test,Emma Employee,mgr@acme.test,python-developer,beginner,
ana@acme.test,Ana Lyst,mgr@acme.test,data-analyst,beginner,
";

const MAPPING: &str = "\
# object-oriented-programming was renamed; apis was split in two.
expectations:
  object-oriented-programming: oop
  apis: [rest-apis, graphql-apis]
";

fn actor(p: &Person) -> Actor {
    Actor::Person {
        id: p.id,
        org: p.org_id,
        is_admin: p.is_admin,
    }
}

fn code(r: Result<impl std::fmt::Debug, AppError>) -> &'static str {
    r.unwrap_err().code()
}

fn patch(key: &str, name: &str) -> Patch {
    Patch {
        key: Some(key.into()),
        name: Some(name.into()),
        description: None,
    }
}

async fn story(t: &TestDb) {
    let b = format!("{:?}", t.backend);
    let app = App::new(t.db.clone());
    let sys = Actor::system();
    app.create_org(&sys, "acme", "Acme").await.unwrap();
    let v1 = app
        .import_matrix(&sys, "acme", MatrixSource::Template("python"), false)
        .await
        .unwrap();
    assert!(matches!(v1, ImportOutcome::Created { .. }), "{b}");
    assert_eq!(v1.version().number, Some(1));
    app.import_people(&sys, "acme", PEOPLE, "people.csv", None)
        .await
        .unwrap();
    let who = |e: &'static str| {
        let app = app.clone();
        async move { app.person_by_email(&sys_actor(), "acme", e).await.unwrap() }
    };
    let (hr, mgr, emp, ana) = (
        who("hr@acme.test").await,
        who("mgr@acme.test").await,
        who("emp@acme.test").await,
        who("ana@acme.test").await,
    );

    // The manager assesses Emma on what the next level (intermediate) adds.
    for key in ["object-oriented-programming", "apis"] {
        app.assess(
            &actor(&mgr),
            "acme",
            AssessInput {
                person: emp.id,
                expectation: key,
                rating: Rating::Meets,
                evidence: "shipped it",
                links: vec![],
            },
        )
        .await
        .unwrap();
    }
    let before = app
        .growth_plan(&actor(&emp), "acme", emp.id, None)
        .await
        .unwrap();
    assert_eq!(before.version.number, Some(1), "{b}");
    assert_eq!(before.plan.gaps().count(), 0, "{b}");

    // HR starts the draft and edits it field by field.
    let hr_a = actor(&hr);
    let (draft, _) = app.start_draft(&hr_a, "acme", "python").await.unwrap();
    assert_eq!((draft.number, draft.revision), (None, 0), "{b}");
    assert_eq!(
        code(app.start_draft(&hr_a, "acme", "python").await),
        "CONFLICT"
    );
    // Employees and managers neither see nor edit drafts.
    assert_eq!(
        code(
            app.matrix_version(&actor(&emp), "acme", "python", VersionRef::Draft)
                .await
        ),
        "FORBIDDEN"
    );
    let rename = [MatrixEdit::UpdateExpectation {
        key: "object-oriented-programming".into(),
        change: ExpectationPatch {
            patch: patch("oop", "Object-oriented design"),
            ..Default::default()
        },
    }];
    let split = [
        MatrixEdit::UpdateExpectation {
            key: "apis".into(),
            change: ExpectationPatch {
                patch: patch("rest-apis", "REST APIs"),
                ..Default::default()
            },
        },
        MatrixEdit::AddExpectation {
            track: "python-developer".into(),
            level: "intermediate".into(),
            expectation: ExpectationDraft {
                key: "graphql-apis".into(),
                name: "GraphQL APIs".into(),
                ..Default::default()
            },
            position: None,
        },
        MatrixEdit::AddExpectation {
            track: "python-developer".into(),
            level: "intermediate".into(),
            expectation: ExpectationDraft {
                key: "testing".into(),
                name: "Automated testing".into(),
                ..Default::default()
            },
            position: None,
        },
    ];
    // Two HR admins edit revision 0 at the same time: one wins, the other gets CONFLICT.
    let (a, c) = tokio::join!(
        app.edit_draft(&hr_a, "acme", "python", 0, &rename),
        app.edit_draft(&sys, "acme", "python", 0, &split),
    );
    let (won, lost_split) = match (a, c) {
        (Ok(_), Err(e)) => (1, e),
        (Err(e), Ok(_)) => (2, e),
        other => panic!("{b}: exactly one concurrent edit must win: {other:?}"),
    };
    assert_eq!(
        lost_split.code(),
        "CONFLICT",
        "{b}: {lost_split} {:?}",
        std::error::Error::source(&lost_split)
    );
    // The loser reloads and applies its edit again.
    let (info, _) = app
        .matrix_version(&hr_a, "acme", "python", VersionRef::Draft)
        .await
        .unwrap();
    assert_eq!(info.revision, 1, "{b}");
    let again: &[MatrixEdit] = if won == 1 { &split } else { &rename };
    let (info, m) = app
        .edit_draft(&hr_a, "acme", "python", 1, again)
        .await
        .unwrap();
    assert_eq!(info.revision, 2, "{b}");
    let keys: Vec<String> = m
        .cell("python-developer", "intermediate")
        .unwrap()
        .expectations
        .iter()
        .map(|e| e.key.to_string())
        .collect();
    assert_eq!(keys, ["oop", "rest-apis", "graphql-apis", "testing"], "{b}");
    // A bad edit is refused whole, with what to fix; the draft is unchanged.
    let err = app
        .edit_draft(
            &hr_a,
            "acme",
            "python",
            2,
            &[MatrixEdit::UpdateExpectation {
                key: "oop".into(),
                change: ExpectationPatch {
                    patch: patch("testing", "Clash"),
                    ..Default::default()
                },
            }],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{b}");
    assert!(
        err.to_string()
            .contains("duplicate expectation key `testing`"),
        "{b}: {err}"
    );

    // The diff, by stable key.
    let d = app
        .diff_versions(
            &hr_a,
            "acme",
            "python",
            VersionRef::Number(1),
            VersionRef::Draft,
        )
        .await
        .unwrap();
    let has = |e, k, key: &str| {
        d.diff
            .changes
            .iter()
            .any(|c| c.entity == e && c.kind == k && c.key == key)
    };
    for key in ["object-oriented-programming", "apis"] {
        assert!(
            has(Entity::Expectation, ChangeKind::Removed, key),
            "{b}: {key}"
        );
    }
    for key in ["oop", "rest-apis", "graphql-apis", "testing"] {
        assert!(
            has(Entity::Expectation, ChangeKind::Added, key),
            "{b}: {key}"
        );
    }
    assert_eq!(d.diff.summary(), "4 added, 2 removed", "{b}");

    // Publishing freezes the draft as version 2.
    assert_eq!(
        code(app.publish_matrix(&hr_a, "acme", "python", " ", None).await),
        "INVALID_INPUT"
    );
    assert_eq!(
        code(
            app.publish_matrix(&hr_a, "acme", "python", "stale", Some(1))
                .await
        ),
        "CONFLICT"
    );
    let v2 = app
        .publish_matrix(
            &hr_a,
            "acme",
            "python",
            "OOP renamed, APIs split, testing added",
            Some(2),
        )
        .await
        .unwrap();
    assert_eq!(v2.number, Some(2), "{b}");
    let versions = app
        .matrix_versions(&actor(&emp), "acme", "python")
        .await
        .unwrap();
    assert_eq!(versions.len(), 2, "{b}");
    assert_eq!(
        versions[1].published_by_name.as_deref(),
        Some("Hana HR <hr@acme.test>")
    );
    assert_eq!(
        versions[1].info.note.as_deref(),
        Some("OOP renamed, APIs split, testing added")
    );

    // The database itself refuses to change a published version.
    let conn = t.db.conn_for_tests();
    let v1_id = v1.version().id.0;
    let q = |sql: String| {
        let conn = conn.clone();
        async move { conn.execute_unprepared(&sql).await }
    };
    let uuid = |u: uuid::Uuid| match t.backend {
        rungs_db::Backend::Postgres => format!("'{u}'"),
        rungs_db::Backend::Sqlite => format!("X'{}'", u.simple()),
        rungs_db::Backend::MySql => format!("UNHEX('{}')", u.simple()),
    };
    for sql in [
        format!(
            "UPDATE expectations SET name = 'x' WHERE version_id = {}",
            uuid(v1_id)
        ),
        format!("DELETE FROM resources WHERE version_id = {}", uuid(v1_id)),
        format!(
            "UPDATE matrix_versions SET note = 'x' WHERE id = {}",
            uuid(v1_id)
        ),
        format!("DELETE FROM matrix_versions WHERE id = {}", uuid(v1_id)),
    ] {
        let err = q(sql.clone()).await.unwrap_err().to_string();
        assert!(
            err.contains("published matrix versions cannot be changed"),
            "{b}: {sql}: {err}"
        );
    }

    // A dry run without a mapping: the renamed and split ratings would be dropped.
    let plain = app
        .move_people(&hr_a, "acme", "python", 2, None, true)
        .await
        .unwrap();
    let emma = plain
        .moves
        .iter()
        .find(|m| m.email == "emp@acme.test")
        .unwrap();
    let keys = |n: &[rungs_domain::migrate::Named]| -> Vec<String> {
        n.iter().map(|x| x.key.clone()).collect()
    };
    assert_eq!(
        keys(&emma.change.dropped),
        ["apis", "object-oriented-programming"],
        "{b}"
    );
    assert_eq!(
        keys(&emma.change.new_gaps),
        ["oop", "rest-apis", "graphql-apis", "testing"],
        "{b}"
    );
    // ... named by what they say.
    let labels: Vec<&str> = emma
        .change
        .new_gaps
        .iter()
        .map(|n| n.label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "Object-oriented design",
            "REST APIs",
            "GraphQL APIs",
            "Automated testing"
        ],
        "{b}"
    );
    // A mapping that names a key version 2 lacks is refused with its line, nothing written.
    let bad = parse_mapping(
        "expectations:\n  apis: rest\n",
        MatrixFormat::Yaml,
        "map.yaml",
    )
    .unwrap();
    let err = app
        .move_people(&hr_a, "acme", "python", 2, Some(&bad), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("map.yaml:2:9: expectations.apis: `apis` maps to expectation `rest`, which version 2 does not have"),
        "{b}: {err}"
    );
    // With the mapping, the dry run shows only the truly new expectation as a gap.
    let mapping = parse_mapping(MAPPING, MatrixFormat::Yaml, "map.yaml").unwrap();
    let dry = app
        .move_people(&hr_a, "acme", "python", 2, Some(&mapping), true)
        .await
        .unwrap();
    assert_eq!(dry.moves.len(), 3, "{b}: mgr, emp and ana move");
    let emma = dry
        .moves
        .iter()
        .find(|m| m.email == "emp@acme.test")
        .unwrap();
    assert_eq!(emma.change.carried, 3, "{b}");
    assert!(emma.change.dropped.is_empty(), "{b}");
    assert_eq!(keys(&emma.change.new_gaps), ["testing"], "{b}");
    assert_eq!(
        (emma.change.gaps_before, emma.change.gaps_after),
        (0, 1),
        "{b}"
    );
    let anna = dry
        .moves
        .iter()
        .find(|m| m.email == "ana@acme.test")
        .unwrap();
    assert!(
        anna.change.new_gaps.is_empty(),
        "{b}: other tracks are unchanged"
    );
    // ... and wrote nothing.
    let still = app
        .growth_plan(&actor(&emp), "acme", emp.id, None)
        .await
        .unwrap();
    assert_eq!(still.version.number, Some(1), "{b}");

    // An open promotion case blocks the move until it is decided.
    app.propose_promotion(
        &actor(&mgr),
        "acme",
        Proposal {
            person: ana.id,
            target: None,
            justification: "ready",
        },
    )
    .await
    .unwrap();
    let dry = app
        .move_people(&hr_a, "acme", "python", 2, Some(&mapping), true)
        .await
        .unwrap();
    assert_eq!(dry.blocked_by_open_cases, ["ana@acme.test"], "{b}");
    let err = app
        .move_people(&hr_a, "acme", "python", 2, Some(&mapping), false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CONFLICT", "{b}");
    assert!(err.to_string().contains("ana@acme.test"), "{b}: {err}");
    let case = app
        .promotion_cases(&hr_a, "acme", None, true, None, None)
        .await
        .unwrap()
        .items
        .remove(0);
    app.withdraw_promotion(&actor(&mgr), "acme", case.case.id, "after the move")
        .await
        .unwrap();

    // The move.
    let done = app
        .move_people(&hr_a, "acme", "python", 2, Some(&mapping), false)
        .await
        .unwrap();
    assert_eq!((done.moves.len(), done.assessments_carried), (3, 3), "{b}");
    let after = app
        .growth_plan(&actor(&emp), "acme", emp.id, None)
        .await
        .unwrap();
    assert_eq!(after.version.number, Some(2), "{b}");
    let status = |key: &str| {
        after
            .plan
            .items
            .iter()
            .find(|i| i.expectation.key.as_str() == key)
            .map(|i| i.status)
    };
    assert_eq!(status("oop"), Some(ExpectationStatus::Met), "{b}");
    assert_eq!(status("rest-apis"), Some(ExpectationStatus::Met), "{b}");
    assert_eq!(status("graphql-apis"), Some(ExpectationStatus::Met), "{b}");
    assert_eq!(
        status("testing"),
        Some(ExpectationStatus::NotAssessed),
        "{b}"
    );
    let gaps: Vec<String> = after
        .plan
        .gaps()
        .map(|g| g.expectation.key.to_string())
        .collect();
    assert_eq!(gaps, ["testing"], "{b}");

    // History keeps the version each record was made against.
    let history = app.level_history_of(&hr_a, "acme", emp.id).await.unwrap();
    assert_eq!(history.len(), 2, "{b}");
    assert_eq!(history[0].version_id, v1.version().id, "{b}");
    assert_eq!(history[1].version_id, v2.id, "{b}");
    assert_eq!(history[1].reason, "moved to version 2", "{b}");
    assert_eq!(history[1].level.as_str(), "beginner", "{b}");
    assert_eq!(history[1].moved_from, Some(history[0].id), "{b}");
    let rated = app
        .db()
        .assessments_in(emp.org_id, Scope::Person(emp.id), None)
        .await
        .unwrap();
    let originals: Vec<_> = rated.iter().filter(|a| a.carried_from.is_none()).collect();
    let copies: Vec<_> = rated.iter().filter(|a| a.carried_from.is_some()).collect();
    assert_eq!(originals.len(), 2, "{b}");
    assert!(
        originals.iter().all(|a| a.version_id == v1.version().id),
        "{b}"
    );
    assert_eq!(copies.len(), 3, "{b}");
    for c in &copies {
        let from = originals
            .iter()
            .find(|o| Some(o.id) == c.carried_from)
            .unwrap();
        assert_eq!(c.version_id, v2.id, "{b}");
        assert_eq!(
            (c.at, c.assessor_id, c.rating),
            (from.at, from.assessor_id, from.rating),
            "{b}"
        );
    }
    // Moving again moves nobody.
    let again = app
        .move_people(&hr_a, "acme", "python", 2, Some(&mapping), false)
        .await
        .unwrap();
    assert_eq!((again.moves.len(), again.already_there), (0, 3), "{b}");
    // Who may move people: HR, not managers.
    assert_eq!(
        code(
            app.move_people(&actor(&mgr), "acme", "python", 2, None, true)
                .await
        ),
        "FORBIDDEN"
    );
    // The audit log has the publish and the move, by HR.
    let log = app
        .audit_log(&hr_a, "acme", None, Some(100), None)
        .await
        .unwrap();
    for action in [
        "matrix.draft.start",
        "matrix.draft.edit",
        "matrix.publish",
        "matrix.move_people",
    ] {
        assert!(
            log.items
                .iter()
                .any(|e| e.entry.action == action && e.entry.actor_id == Some(hr.id)),
            "{b}: {action}"
        );
    }
}

fn sys_actor() -> Actor {
    Actor::system()
}

#[tokio::test]
async fn versions_story_on_every_backend() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        story(&t).await;
        t.drop_database().await;
    }
}

const MINI: &str = "format_version: 1\nkey: mini\nname: Mini\nlevels:\n  - key: one\n    name: One\ntracks:\n  - key: t\n    name: T\n    cells:\n      - level: one\n        expectations:\n          - key: e\n            name: E\n";

/// A matrix imported as a draft: the same file again changes nothing, its only draft cannot be
/// discarded, and publishing makes it version 1.
#[tokio::test]
async fn a_draft_only_matrix_on_every_backend() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        let app = App::new(t.db.clone());
        let sys = Actor::system();
        app.create_org(&sys, "acme", "Acme").await.unwrap();
        let file = || MatrixSource::File {
            text: MINI,
            format: MatrixFormat::Yaml,
            name: "mini.yaml",
        };
        let first = app.import_matrix(&sys, "acme", file(), true).await.unwrap();
        assert!(
            matches!(first, ImportOutcome::Created { .. }),
            "{backend:?}"
        );
        assert_eq!(first.version().number, None);
        let again = app.import_matrix(&sys, "acme", file(), true).await.unwrap();
        assert!(
            matches!(again, ImportOutcome::Unchanged { .. }),
            "{backend:?}"
        );
        assert_eq!(
            code(app.discard_draft(&sys, "acme", "mini", None).await),
            "INVALID_INPUT"
        );
        assert_eq!(
            code(
                app.matrix_version(&sys, "acme", "mini", VersionRef::Latest)
                    .await
            ),
            "NOT_FOUND"
        );
        let v1 = app
            .publish_matrix(&sys, "acme", "mini", "first", None)
            .await
            .unwrap();
        assert_eq!(v1.number, Some(1), "{backend:?}");
        t.drop_database().await;
    }
}
