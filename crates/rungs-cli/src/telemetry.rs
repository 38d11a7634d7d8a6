//! Logs and traces: tracing to stderr (pretty or JSON), and, when built with the `otel` feature
//! and `otel_endpoint` is set, the same spans exported over OTLP/HTTP to a collector.

use crate::config::{LogFormat, Settings};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// Flushes exported spans when dropped (at exit).
pub struct Guard {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(p) = self.provider.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("warning: flushing traces failed: {e}");
        }
    }
}

/// Installs the global subscriber. Call before the async runtime starts.
pub fn init(filter: EnvFilter, format: LogFormat, settings: &Settings) -> Guard {
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    #[cfg_attr(not(feature = "otel"), allow(unused_mut))]
    let mut layers: Vec<Boxed> = vec![match format {
        LogFormat::Json => fmt.json().boxed(),
        LogFormat::Pretty => fmt.boxed(),
    }];
    #[cfg(feature = "otel")]
    let mut guard = Guard { provider: None };
    #[cfg(not(feature = "otel"))]
    let guard = Guard {};
    match settings.otel_endpoint.as_deref() {
        None => {}
        #[cfg(feature = "otel")]
        Some(endpoint) => match otel(endpoint) {
            Ok((layer, provider)) => {
                layers.push(layer);
                guard.provider = Some(provider);
            }
            Err(e) => eprintln!("warning: traces are not exported to {endpoint}: {e}"),
        },
        #[cfg(not(feature = "otel"))]
        Some(endpoint) => eprintln!(
            "warning: `otel_endpoint` is {endpoint}, but this build has no OpenTelemetry: build with `--features otel`"
        ),
    }
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .init();
    guard
}

#[cfg(feature = "otel")]
fn otel(
    endpoint: &str,
) -> Result<(Boxed, opentelemetry_sdk::trace::SdkTracerProvider), Box<dyn std::error::Error>> {
    use opentelemetry::trace::TracerProvider;
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()?;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder_empty()
                .with_service_name("rungs")
                .build(),
        )
        .build();
    let tracer = provider.tracer("rungs");
    Ok((
        tracing_opentelemetry::layer().with_tracer(tracer).boxed(),
        provider,
    ))
}
