//! Connecting to PostgreSQL: the URL as libpq reads it (`sslmode`,
//! `sslrootcert` included, which tokio-postgres does not parse), TLS through
//! rustls, and a task that drives the connection and passes on
//! notifications.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

use super::location_of;
use crate::store::{Kind, Result, StoreError};

/// `sslmode` as libpq defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    /// TLS when the server offers it, without checking its certificate
    /// (libpq's default).
    Prefer,
    /// TLS always, without checking the certificate (as libpq does without
    /// a root certificate).
    Require,
    /// TLS, and a certificate signed by a trusted root.
    VerifyCa,
    /// TLS, a trusted certificate, and one issued for the host.
    VerifyFull,
}

/// A parsed URL, ready to connect.
#[derive(Clone)]
pub struct Target {
    config: Config,
    ssl: SslMode,
    root_cert: Option<String>,
    shown: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target> {
        let shown = location_of(url);
        let bad = |message: String| StoreError::new(shown.clone(), Kind::Other, message);
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut ssl = SslMode::Prefer;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => {
                    ssl = match value {
                        "disable" => SslMode::Disable,
                        "allow" | "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(bad(format!(
                                "sslmode `{other}` is not one of disable, allow, prefer, \
                                 require, verify-ca, verify-full"
                            )));
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(percent_decode(value)),
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: Config = rest.parse().map_err(|e: tokio_postgres::Error| {
            bad(format!("not a PostgreSQL URL: {e}")).caused_by(e)
        })?;
        config.ssl_mode(match ssl {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        if config.get_application_name().is_none() {
            config.application_name("schedule");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // A dead peer is noticed by the kernel, not by a query that hangs.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        Ok(Target {
            config,
            ssl,
            root_cert,
            shown,
        })
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Connects, and spawns on the current runtime the task that drives the
    /// connection; notifications go to `notify`. The task ends when the
    /// connection does.
    pub async fn connect(
        &self,
        notify: Option<UnboundedSender<()>>,
    ) -> Result<(Client, tokio::task::JoinHandle<()>)> {
        let fail = |e: tokio_postgres::Error| super::error(&self.shown, e);
        if self.ssl == SslMode::Disable {
            let (client, conn) = self.config.connect(NoTls).await.map_err(fail)?;
            return Ok((client, tokio::spawn(drive(conn, notify))));
        }
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.tls_config()?);
        let (client, conn) = self.config.connect(tls).await.map_err(fail)?;
        Ok((client, tokio::spawn(drive(conn, notify))))
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let bad = |message: String| StoreError::new(self.shown.clone(), Kind::Other, message);
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(format!("cannot set up TLS: {e}")))?;
        let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match self.ssl {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => {
                Arc::new(verify::Nothing(Arc::clone(&provider)))
            }
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = Arc::new(self.roots()?);
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots,
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|e| bad(format!("cannot set up TLS verification: {e}")))?;
                if self.ssl == SslMode::VerifyFull {
                    webpki
                } else {
                    Arc::new(verify::ChainOnly(webpki))
                }
            }
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }

    /// `sslrootcert`, else the system's trusted roots.
    fn roots(&self) -> Result<rustls::RootCertStore> {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let bad = |message: String| StoreError::new(self.shown.clone(), Kind::Other, message);
        let mut roots = rustls::RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(format!("cannot read sslrootcert `{path}`: {e}")))?;
                for cert in certs {
                    let cert =
                        cert.map_err(|e| bad(format!("cannot read sslrootcert `{path}`: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| bad(format!("sslrootcert `{path}`: {e}")))?;
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        if roots.is_empty() {
            return Err(bad(
                "no trusted root certificate to verify the server with; give one with \
                 sslrootcert=PATH"
                    .into(),
            ));
        }
        Ok(roots)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn drive<S, T>(
    mut conn: tokio_postgres::Connection<S, T>,
    notify: Option<UnboundedSender<()>>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(_))) => {
                if let Some(notify) = &notify {
                    let _ = notify.send(());
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::debug!(error = %e, "PostgreSQL connection ended");
                return;
            }
            None => return,
        }
    }
}

/// Certificate checks for the sslmodes that ask for less than full
/// verification, as libpq does.
mod verify {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use std::sync::Arc;

    /// `prefer` and `require`: encrypted, the certificate not checked.
    #[derive(Debug)]
    pub struct Nothing(pub Arc<CryptoProvider>);

    impl ServerCertVerifier for Nothing {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// `verify-ca`: a trusted chain, whatever host name it was issued for.
    #[derive(Debug)]
    pub struct ChainOnly(pub Arc<dyn ServerCertVerifier>);

    impl ServerCertVerifier for ChainOnly {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            match self
                .0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.0.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.0.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }
}
