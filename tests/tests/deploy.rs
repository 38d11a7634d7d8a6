//! The deployment files agree with the code: the image runs the binary as non-root, the
//! compose file and the Kubernetes manifests parse, reference the port the server listens on,
//! probe the routes it serves, set only settings it knows, migrate before serving, and give
//! requests in flight longer than the server's drain time. (Nothing here needs Docker or a
//! cluster; the files are checked as data.)

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(deploy().join(rel)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every setting the server reads from `RUNGS_*`: the keys of the example configuration (the
/// secret is commented out there), plus the log filter and the configuration file's path.
fn known_settings() -> BTreeSet<String> {
    let text = std::fs::read_to_string(deploy().join("rungs.example.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let mut keys: BTreeSet<String> = table
        .keys()
        .map(|k| format!("RUNGS_{}", k.to_uppercase()))
        .collect();
    assert!(
        text.contains("jwt_secret"),
        "the example documents the secret"
    );
    for extra in ["RUNGS_JWT_SECRET", "RUNGS_LOG", "RUNGS_CONFIG"] {
        keys.insert(extra.into());
    }
    keys
}

fn example_setting(key: &str) -> toml::Value {
    let text = std::fs::read_to_string(deploy().join("rungs.example.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table[key].clone()
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_image_is_multi_stage_non_root_and_ships_only_the_binary() {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a build stage and a run stage: {froms:?}");
    assert!(
        froms[1].contains("distroless") && froms[1].contains("nonroot"),
        "{}",
        froms[1]
    );
    let run_stage = text.split(froms[1]).nth(1).unwrap();
    let copies: Vec<&str> = run_stage
        .lines()
        .filter(|l| l.starts_with("COPY"))
        .collect();
    assert_eq!(
        copies,
        ["COPY --from=build /out/rungs /rungs"],
        "only the binary"
    );
    assert!(run_stage.contains("USER nonroot"));
    assert!(run_stage.contains("EXPOSE 8080") && run_stage.contains("RUNGS_ADDR=0.0.0.0:8080"));
    assert!(
        run_stage.contains(
            r#"CMD ["/rungs", "probe", "--addr", "127.0.0.1:8080", "--path", "/readyz"]"#
        )
    );
    assert!(text.contains("--locked --bin rungs"));
    let ignore = std::fs::read_to_string(deploy().join("../.dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l == "target/"),
        "the build context skips target/"
    );
}

#[test]
fn compose_runs_migrations_then_the_api_with_health_checks() {
    let c = yaml("compose.yaml");
    let s = &c["services"];
    assert_eq!(
        str_list(&s["postgres"]["healthcheck"]["test"])[1],
        "pg_isready"
    );
    // The database is reachable from this machine only (for `rungs org import`).
    assert!(
        str_list(&s["postgres"]["ports"])
            .iter()
            .all(|p| p.starts_with("127.0.0.1:")),
        "PostgreSQL must not listen on every interface"
    );
    assert_eq!(str_list(&s["migrate"]["command"]), ["db", "migrate"]);
    assert_eq!(
        s["migrate"]["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    let api = &s["rungs"];
    assert_eq!(
        str_list(&api["command"]),
        ["serve"],
        "no --migrate: the job did it"
    );
    assert_eq!(
        api["depends_on"]["migrate"]["condition"],
        "service_completed_successfully"
    );
    assert_eq!(str_list(&api["ports"]), ["8080:8080"]);
    let env = api["environment"].as_object().unwrap();
    assert_eq!(env["RUNGS_ADDR"], "0.0.0.0:8080");
    let known = known_settings();
    for (service, e) in [
        ("rungs", env),
        ("migrate", s["migrate"]["environment"].as_object().unwrap()),
    ] {
        for k in e.keys() {
            assert!(known.contains(k), "{service}: unknown setting {k}");
        }
        assert!(
            e["RUNGS_DATABASE_URL"]
                .as_str()
                .unwrap()
                .starts_with("postgres://rungs:rungs@postgres:5432/"),
            "{service}"
        );
    }
    let probe = str_list(&api["healthcheck"]["test"]);
    assert_eq!(probe[..3], ["CMD", "/rungs", "probe"]);
    assert!(probe.contains(&"/readyz".to_owned()));
    assert_eq!(s["migrate"]["image"], api["image"], "one image");
}

#[test]
fn kubernetes_manifests_agree_with_each_other_and_the_server() {
    let kust = yaml("k8s/kustomization.yaml");
    let files = str_list(&kust["resources"]);
    let docs: Vec<Value> = files.iter().map(|f| yaml(&format!("k8s/{f}"))).collect();
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let known = known_settings();
    let config = kind("ConfigMap");
    let secret = kind("Secret");
    for k in config["data"]
        .as_object()
        .unwrap()
        .keys()
        .chain(secret["stringData"].as_object().unwrap().keys())
    {
        assert!(known.contains(k), "unknown setting {k}");
    }
    assert!(secret["stringData"]["RUNGS_JWT_SECRET"].is_string());
    assert!(
        secret["stringData"]["RUNGS_DATABASE_URL"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
    assert_eq!(config["data"]["RUNGS_ADDR"], "0.0.0.0:8080");

    let dep = kind("Deployment");
    let pod = &dep["spec"]["template"];
    let labels = pod["metadata"]["labels"].as_object().unwrap();
    assert_eq!(
        &dep["spec"]["selector"]["matchLabels"],
        &pod["metadata"]["labels"]
    );
    assert!(
        dep["spec"]["replicas"].as_u64().unwrap() >= 2,
        "several replicas"
    );
    assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
    let c = &pod["spec"]["containers"][0];
    assert_eq!(str_list(&c["args"]), ["serve"]);
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["ports"][0]["name"], "http");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], "http");
    let env_from: Vec<&str> = c["envFrom"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["configMapRef"]["name"]
                .as_str()
                .or(e["secretRef"]["name"].as_str())
                .unwrap()
        })
        .collect();
    assert_eq!(
        env_from,
        [
            config["metadata"]["name"].as_str().unwrap(),
            secret["metadata"]["name"].as_str().unwrap()
        ]
    );
    // Kubernetes waits longer than the server drains.
    let drain: u64 = config["data"]["RUNGS_SHUTDOWN_GRACE_SECS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        example_setting("shutdown_grace_secs").as_integer(),
        Some(drain as i64)
    );
    assert!(
        pod["spec"]["terminationGracePeriodSeconds"]
            .as_u64()
            .unwrap()
            > drain
    );
    assert_eq!(
        pod["metadata"]["annotations"]["prometheus.io/path"],
        "/metrics"
    );

    let job = kind("Job");
    let jc = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(str_list(&jc["args"]), ["db", "migrate"]);
    assert_eq!(
        jc["image"], c["image"],
        "the job migrates with the same image"
    );
    assert_eq!(jc["envFrom"], c["envFrom"]);

    let svc = kind("Service");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "http");
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(labels.get(k), Some(v), "the Service selects the API pods");
    }
    let pdb = kind("PodDisruptionBudget");
    assert_eq!(
        &pdb["spec"]["selector"]["matchLabels"],
        &dep["spec"]["selector"]["matchLabels"]
    );
    assert!(
        pdb["spec"]["minAvailable"].as_u64().unwrap() < dep["spec"]["replicas"].as_u64().unwrap()
    );
    let hpa = kind("HorizontalPodAutoscaler");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        dep["metadata"]["name"]
    );
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert!(
        hpa["spec"]["minReplicas"].as_u64().unwrap()
            >= pdb["spec"]["minAvailable"].as_u64().unwrap()
    );
    // Every manifest lands in the namespace kustomize names.
    assert_eq!(kind("Namespace")["metadata"]["name"], kust["namespace"]);
}
