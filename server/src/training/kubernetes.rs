//! The `kubernetes` runner: every training run is a `batch/v1` Job running this app's own image
//! as `icantkube train --run-id N`. The worker inside records progress and the outcome in the
//! database; the app watches the Job and, when it ends without the run saying why, marks the
//! run failed with the pod's reason (out of memory, past its deadline, an image that cannot be
//! pulled).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use app::model::RunState;
use async_trait::async_trait;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, Container, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, EmptyDirVolumeSource, EnvFromSource, EnvVar, Pod, PodSecurityContext, PodSpec,
    PodTemplateSpec, ResourceRequirements, SeccompProfile, SecretEnvSource, SecurityContext,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::Client;
use tokio::task::JoinHandle;

use super::{Runner, RunnerError};
use crate::configuration::KubernetesSettings;
use crate::db::{training_runs, Database};
use crate::error::{cause_chain, Error};

/// The label that ties a Job and its pods to their training run.
pub const RUN_LABEL: &str = "icantkube.io/training-run";
/// The training container in a Job's pod.
const CONTAINER: &str = "train";
/// What the runner does through the API, as RBAC rules: (API group, resource, verbs).
const REQUIRED_ACCESS: [(&str, &str, &[&str]); 2] = [
    ("batch", "jobs", &["create", "get", "delete"]),
    ("", "pods", &["list"]),
];
/// Waiting reasons of a container that will not start by itself. Kubernetes keeps retrying
/// them without ever failing the Job, so the run would hang until its deadline.
const START_FAILURES: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
];

/// Trains each run in its own Kubernetes Job.
#[derive(Clone)]
pub struct KubernetesRunner {
    settings: Arc<KubernetesSettings>,
    db: Database,
    jobs: Api<Job>,
    pods: Api<Pod>,
    reviews: Api<SelfSubjectAccessReview>,
    /// Whether this replica follows the training Jobs: while it holds the background lease
    /// (`follow_jobs`). Another replica's launches are adopted within a poll interval.
    following: Arc<AtomicBool>,
    /// Runs whose Job this process watches, so that none is watched twice.
    watched: Arc<Mutex<HashSet<i64>>>,
}

/// Marks the runner following its Jobs while alive: the follower task holds it, and an
/// aborted task (the lease lost) drops it.
struct Following(Arc<AtomicBool>);

impl Following {
    fn start(flag: Arc<AtomicBool>) -> Following {
        flag.store(true, Ordering::Relaxed);
        Following(flag)
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Whether a Job still needs watching.
#[derive(Debug)]
enum Watching {
    Continue,
    Done,
}

impl KubernetesRunner {
    /// Connects with the pod's ServiceAccount and checks that it may do what the runner does.
    pub async fn connect(
        settings: KubernetesSettings,
        db: Database,
    ) -> Result<KubernetesRunner, RunnerError> {
        let client = Client::try_default().await.map_err(|error| {
            RunnerError::Unavailable(format!(
                "the kubernetes training backend found no Kubernetes API to talk to (it runs \
                 in a pod with a ServiceAccount token, or with a kubeconfig): {}",
                cause_chain(&error)
            ))
        })?;
        let runner = KubernetesRunner::with_client(client, settings, db);
        runner.check_permissions().await?;
        // It follows Jobs only once it holds the background lease.
        runner.following.store(false, Ordering::Relaxed);
        Ok(runner)
    }

    /// A runner on a client made elsewhere (tests point one at a stand-in API server); it
    /// follows the Jobs it launches from the start.
    pub fn with_client(
        client: Client,
        settings: KubernetesSettings,
        db: Database,
    ) -> KubernetesRunner {
        let namespace = settings.namespace.as_str();
        KubernetesRunner {
            jobs: Api::namespaced(client.clone(), namespace),
            pods: Api::namespaced(client.clone(), namespace),
            reviews: Api::all(client),
            settings: Arc::new(settings),
            db,
            following: Arc::new(AtomicBool::new(true)),
            watched: Arc::default(),
        }
    }

    /// Asks the API server whether this ServiceAccount may do everything the runner does in
    /// the namespace; answers `Unavailable` naming each missing permission and the Role to add.
    #[tracing::instrument(name = "Checking Kubernetes permissions", skip_all)]
    pub async fn check_permissions(&self) -> Result<(), RunnerError> {
        let namespace = &self.settings.namespace;
        let mut missing = Vec::new();
        for (group, resource, verbs) in REQUIRED_ACCESS {
            for verb in verbs {
                let review = SelfSubjectAccessReview {
                    spec: SelfSubjectAccessReviewSpec {
                        resource_attributes: Some(ResourceAttributes {
                            namespace: Some(namespace.clone()),
                            verb: Some(verb.to_string()),
                            group: Some(group.to_string()),
                            resource: Some(resource.to_string()),
                            ..ResourceAttributes::default()
                        }),
                        ..SelfSubjectAccessReviewSpec::default()
                    },
                    ..SelfSubjectAccessReview::default()
                };
                let action = "ask which permissions it has";
                let answer = self
                    .answer(action, self.reviews.create(&PostParams::default(), &review))
                    .await?
                    .map_err(|error| self.api_error(action, error))?;
                if !answer.status.is_some_and(|status| status.allowed) {
                    missing.push(format!("{verb} {resource}"));
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let rules: Vec<String> = REQUIRED_ACCESS
            .iter()
            .map(|(group, resource, verbs)| {
                format!(
                    "apiGroups [\"{group}\"] resources [\"{resource}\"] verbs [{}]",
                    verbs.join(", ")
                )
            })
            .collect();
        Err(RunnerError::Unavailable(format!(
            "the kubernetes training backend lacks permissions in namespace {namespace}: its \
             ServiceAccount may not {}. Bind it a Role in {namespace} with the rules: {}",
            missing.join(", "),
            rules.join("; ")
        )))
    }

    /// Watches the Jobs of queued or running runs that this process does not watch yet: those
    /// of an earlier process, or of another replica; answers how many.
    pub async fn resume_watching(&self) -> Result<usize, RunnerError> {
        let mut resumed = 0;
        for state in [RunState::Queued, RunState::Running] {
            for run in training_runs::in_state(self.db.pool(), state).await? {
                if let Some(job_name) = run.job_name {
                    if self.watch(run.id, job_name) {
                        resumed += 1;
                    }
                }
            }
        }
        Ok(resumed)
    }

    /// Follows a Job in the background until it ends, or until this replica stops following
    /// (another then does); answers false when the run's Job is watched already.
    fn watch(&self, run_id: i64, job_name: String) -> bool {
        if !self.watched.lock().expect("never poisoned").insert(run_id) {
            return false;
        }
        let runner = self.clone();
        tokio::spawn(async move {
            let mut failing_to_start_since = None;
            loop {
                tokio::time::sleep(runner.settings.poll_interval).await;
                if !runner.following.load(Ordering::Relaxed) {
                    break;
                }
                match runner
                    .check(run_id, &job_name, &mut failing_to_start_since)
                    .await
                {
                    Ok(Watching::Continue) => {}
                    Ok(Watching::Done) => break,
                    Err(error) => tracing::warn!(
                        run_id,
                        job = %job_name,
                        cause_chain = %cause_chain(&error),
                        "checking a training Job failed; trying again"
                    ),
                }
            }
            runner
                .watched
                .lock()
                .expect("never poisoned")
                .remove(&run_id);
        });
        true
    }

    /// Looks at the Job once; fails the run when the Job ended without the run's end recorded,
    /// or when its pod has failed to start for longer than the grace period.
    async fn check(
        &self,
        run_id: i64,
        job_name: &str,
        failing_to_start_since: &mut Option<Instant>,
    ) -> Result<Watching, RunnerError> {
        let action = format!("read the Job {job_name}");
        let job = self
            .answer(&action, self.jobs.get_opt(job_name))
            .await?
            .map_err(|error| self.api_error(&action, error))?;
        let Some(job) = job else {
            // Cancelling marks the run before deleting its Job, so this leaves cancelled runs be.
            self.fail(
                run_id,
                &format!("its Job {job_name} was deleted before the run finished"),
            )
            .await?;
            return Ok(Watching::Done);
        };
        if let Some(condition) = ended(&job) {
            let reason = if condition.type_ == "Complete" {
                format!(
                    "its Job {job_name} completed, but the training process never recorded \
                     the run's end"
                )
            } else {
                self.failure_reason(run_id, &job, condition).await?
            };
            self.fail(run_id, &reason).await?;
            return Ok(Watching::Done);
        }
        let pods = self.run_pods(run_id).await?;
        let Some(reason) = pods.iter().find_map(|pod| self.start_failure(pod)) else {
            *failing_to_start_since = None;
            return Ok(Watching::Continue);
        };
        let since = *failing_to_start_since.get_or_insert_with(Instant::now);
        if since.elapsed() < self.settings.start_grace {
            return Ok(Watching::Continue);
        }
        // Recorded before the Job goes, so a failed delete is retried on the next check
        // without losing the reason.
        self.fail(
            run_id,
            &format!(
                "{reason}; gave up after {:?} (ICANTKUBE_JOB_START_GRACE) and deleted the Job",
                self.settings.start_grace
            ),
        )
        .await?;
        self.delete_job(job_name).await?;
        Ok(Watching::Done)
    }

    /// Why a failed Job failed, in words.
    async fn failure_reason(
        &self,
        run_id: i64,
        job: &Job,
        condition: &JobCondition,
    ) -> Result<String, RunnerError> {
        if condition.reason.as_deref() == Some("DeadlineExceeded") {
            let seconds = job
                .spec
                .as_ref()
                .and_then(|spec| spec.active_deadline_seconds)
                .unwrap_or(self.settings.active_deadline_seconds);
            return Ok(format!(
                "the training Job ran past its deadline of {seconds} s \
                 (ICANTKUBE_JOB_DEADLINE_SECONDS)"
            ));
        }
        let pods = self.run_pods(run_id).await?;
        if let Some(reason) = pods.iter().find_map(|pod| self.pod_failure(pod)) {
            return Ok(reason);
        }
        Ok(format!(
            "the training Job failed ({}: {})",
            condition.reason.as_deref().unwrap_or("no reason given"),
            condition.message.as_deref().unwrap_or("no message")
        ))
    }

    /// What ended a failed pod: its container's termination, a start it never made, or the
    /// pod's own reason (an eviction, say).
    fn pod_failure(&self, pod: &Pod) -> Option<String> {
        let status = pod.status.as_ref()?;
        if let Some(container) = training_container(pod) {
            let terminated = container
                .state
                .as_ref()
                .and_then(|state| state.terminated.as_ref())
                .or_else(|| {
                    container
                        .last_state
                        .as_ref()
                        .and_then(|state| state.terminated.as_ref())
                });
            if let Some(terminated) = terminated {
                return Some(self.termination(pod, terminated));
            }
            if let Some(reason) = self.start_failure(pod) {
                return Some(reason);
            }
        }
        status.reason.as_ref().map(|reason| {
            format!(
                "the training pod was {reason}: {}",
                status.message.as_deref().unwrap_or("no message")
            )
        })
    }

    /// How the training container ended, in words.
    fn termination(&self, pod: &Pod, terminated: &ContainerStateTerminated) -> String {
        let reason = terminated.reason.as_deref().unwrap_or("no reason given");
        if reason == "OOMKilled" {
            let limit = pod
                .spec
                .as_ref()
                .and_then(|spec| spec.containers.iter().find(|c| c.name == CONTAINER))
                .and_then(|container| container.resources.as_ref()?.limits.as_ref())
                .and_then(|limits| limits.get("memory"))
                .map_or(self.settings.memory_limit.as_str(), |quantity| &quantity.0);
            return format!(
                "the training ran out of memory (OOMKilled) at its limit of {limit} \
                 (ICANTKUBE_JOB_MEMORY_LIMIT)"
            );
        }
        let mut text = format!(
            "the training process exited with code {} ({reason})",
            terminated.exit_code
        );
        if let Some(message) = terminated.message.as_deref().filter(|m| !m.is_empty()) {
            text.push_str(": ");
            text.push_str(message);
        }
        text
    }

    /// Why the pod's training container cannot start, when it is one of the reasons
    /// Kubernetes retries forever.
    fn start_failure(&self, pod: &Pod) -> Option<String> {
        let container = training_container(pod)?;
        let waiting: &ContainerStateWaiting = container.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting
            .reason
            .as_deref()
            .filter(|reason| START_FAILURES.contains(reason))?;
        let message = waiting.message.as_deref().unwrap_or("no message");
        Some(if reason == "CreateContainerConfigError" {
            format!(
                "the training container cannot be set up ({reason}: {message}); check the \
                 ConfigMap {} and the Secret {}",
                self.settings.config_map, self.settings.secret
            )
        } else {
            let image = if container.image.is_empty() {
                &self.settings.image
            } else {
                &container.image
            };
            format!("the training image {image} cannot be pulled ({reason}: {message})")
        })
    }

    /// The pods of a run's Job.
    async fn run_pods(&self, run_id: i64) -> Result<Vec<Pod>, RunnerError> {
        let selector = format!(
            "app.kubernetes.io/name={},{RUN_LABEL}={run_id}",
            self.settings.app_name
        );
        let action = format!("list the pods of run {run_id}");
        let pods = self
            .answer(
                &action,
                self.pods.list(&ListParams::default().labels(&selector)),
            )
            .await?
            .map_err(|error| self.api_error(&action, error))?;
        Ok(pods.items)
    }

    /// Deletes a Job with its pods; one already gone is fine.
    async fn delete_job(&self, job_name: &str) -> Result<(), RunnerError> {
        let action = format!("delete the Job {job_name}");
        match self
            .answer(
                &action,
                self.jobs.delete(job_name, &DeleteParams::background()),
            )
            .await?
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
            Err(error) => Err(self.api_error(&action, error)),
        }
    }

    /// Marks the run failed unless it already ended (the worker's own reason wins).
    async fn fail(&self, run_id: i64, reason: &str) -> Result<(), RunnerError> {
        if training_runs::fail_unfinished(self.db.pool(), run_id, reason).await? {
            tracing::warn!(run_id, %reason, "training run failed in Kubernetes");
        }
        Ok(())
    }

    /// The API server's answer to `call`, or `Unavailable` when it takes longer than the
    /// API timeout.
    async fn answer<T>(
        &self,
        action: &str,
        call: impl std::future::Future<Output = Result<T, kube::Error>>,
    ) -> Result<Result<T, kube::Error>, RunnerError> {
        let timeout = self.settings.api_timeout;
        tokio::time::timeout(timeout, call).await.map_err(|_| {
            RunnerError::Unavailable(format!(
                "the Kubernetes API did not answer within {} ms when asked to {action}",
                timeout.as_millis()
            ))
        })
    }

    /// An API failure in words that say what was being done and where.
    fn api_error(&self, action: &str, error: kube::Error) -> RunnerError {
        let namespace = &self.settings.namespace;
        RunnerError::Unavailable(match error {
            kube::Error::Api(status) if status.is_forbidden() => format!(
                "Kubernetes does not let the app {action} in namespace {namespace}; its \
                 ServiceAccount lacks the permission: {}",
                status.message
            ),
            kube::Error::Api(status) => format!(
                "Kubernetes refused to {action} in namespace {namespace}: {} ({} {})",
                status.message, status.code, status.reason
            ),
            other => format!(
                "cannot reach the Kubernetes API to {action}: {}",
                cause_chain(&other)
            ),
        })
    }
}

#[async_trait]
impl Runner for KubernetesRunner {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    #[tracing::instrument(name = "Launching a training Job", skip(self))]
    async fn launch(&self, run_id: i64) -> Result<(), RunnerError> {
        let job_name = job_name(&self.settings, run_id);
        let action = format!("create the Job {job_name}");
        let manifest = job_manifest(&self.settings, run_id);
        self.answer(&action, self.jobs.create(&PostParams::default(), &manifest))
            .await?
            .map_err(|error| self.api_error(&action, error))?;
        training_runs::set_job_name(self.db.pool(), run_id, &job_name).await?;
        tracing::info!(run_id, job = %job_name, namespace = %self.settings.namespace, "training Job created");
        if self.following.load(Ordering::Relaxed) {
            self.watch(run_id, job_name);
        }
        Ok(())
    }

    fn follow_jobs(&self) -> Option<JoinHandle<()>> {
        let runner = self.clone();
        Some(tokio::spawn(async move {
            let _following = Following::start(runner.following.clone());
            loop {
                match runner.resume_watching().await {
                    Ok(0) => {}
                    Ok(adopted) => tracing::info!(adopted, "training Jobs followed from now on"),
                    Err(error) => tracing::warn!(
                        cause_chain = %cause_chain(&error),
                        "cannot list the runs whose Jobs to follow; trying again"
                    ),
                }
                tokio::time::sleep(runner.settings.poll_interval).await;
            }
        }))
    }

    #[tracing::instrument(name = "Cancelling a training Job", skip(self))]
    async fn cancel(&self, run_id: i64) -> Result<(), RunnerError> {
        // Marked first, so the watcher that then finds the Job gone leaves the run cancelled.
        super::mark_cancelled(&self.db, run_id).await?;
        let run = training_runs::find(self.db.pool(), run_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("training run {run_id}")))?;
        let job_name = run
            .job_name
            .unwrap_or_else(|| job_name(&self.settings, run_id));
        self.delete_job(&job_name).await
    }
}

/// The Job of a run: `<app>-train-<run id>`.
pub fn job_name(settings: &KubernetesSettings, run_id: i64) -> String {
    format!("{}-train-{run_id}", settings.app_name)
}

/// The Job that trains a run: this app's image running `train --run-id N`, its environment
/// from the app's ConfigMap and Secret, bounded in resources and time, locked down.
pub fn job_manifest(settings: &KubernetesSettings, run_id: i64) -> Job {
    let name = job_name(settings, run_id);
    let labels = BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            settings.app_name.clone(),
        ),
        (
            "app.kubernetes.io/component".to_string(),
            "training".to_string(),
        ),
        (RUN_LABEL.to_string(), run_id.to_string()),
    ]);
    let quantities = |cpu: &str, memory: &str| {
        BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.to_string())),
            ("memory".to_string(), Quantity(memory.to_string())),
        ])
    };
    let container = Container {
        name: CONTAINER.to_string(),
        image: Some(settings.image.clone()),
        // The image's entrypoint is the `icantkube` binary.
        args: Some(vec![
            "train".to_string(),
            "--run-id".to_string(),
            run_id.to_string(),
        ]),
        env: Some(vec![EnvVar {
            name: "ICANTKUBE_RUNNER".to_string(),
            value: Some(name.clone()),
            ..EnvVar::default()
        }]),
        env_from: Some(vec![
            EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: settings.config_map.clone(),
                    ..ConfigMapEnvSource::default()
                }),
                ..EnvFromSource::default()
            },
            EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: settings.secret.clone(),
                    ..SecretEnvSource::default()
                }),
                ..EnvFromSource::default()
            },
        ]),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(&settings.cpu_request, &settings.memory_request)),
            limits: Some(quantities(&settings.cpu_limit, &settings.memory_limit)),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                ..Capabilities::default()
            }),
            ..SecurityContext::default()
        }),
        // The root file system is read-only; scratch files go here.
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".to_string(),
            mount_path: "/tmp".to_string(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    Job {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(settings.namespace.clone()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(settings.backoff_limit),
            active_deadline_seconds: Some(settings.active_deadline_seconds),
            ttl_seconds_after_finished: Some(settings.ttl_seconds_after_finished),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_string()),
                    service_account_name: settings.service_account.clone(),
                    // The worker talks to the database and MLflow, never to Kubernetes.
                    automount_service_account_token: Some(false),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".to_string(),
                            ..SeccompProfile::default()
                        }),
                        ..PodSecurityContext::default()
                    }),
                    containers: vec![container],
                    volumes: Some(vec![Volume {
                        name: "tmp".to_string(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

/// The Job's final condition (`Complete` or `Failed`), once it has one.
fn ended(job: &Job) -> Option<&JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.status == "True" && (c.type_ == "Complete" || c.type_ == "Failed"))
}

/// The training container's status in a pod.
fn training_container(pod: &Pod) -> Option<&ContainerStatus> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|container| container.name == CONTAINER)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::rbac::v1::Role;

    use super::REQUIRED_ACCESS;

    /// The Role deployed with the app grants what the runner checks at start, no more: a
    /// missing verb would stop the app at start on the cluster, an extra one is access nobody
    /// needs.
    #[test]
    fn the_deployed_role_grants_exactly_the_required_access() {
        let role: Role = serde_saphyr::from_str(include_str!("../../../kubernetes/app/role.yaml"))
            .expect("kubernetes/app/role.yaml is a Role");
        let granted: Vec<(String, String, Vec<String>)> = role
            .rules
            .unwrap_or_default()
            .into_iter()
            .flat_map(|rule| {
                let verbs = rule.verbs;
                let groups = rule.api_groups.unwrap_or_default();
                let resources = rule.resources.unwrap_or_default();
                groups.into_iter().flat_map(move |group| {
                    let verbs = verbs.clone();
                    resources
                        .clone()
                        .into_iter()
                        .map(move |resource| (group.clone(), resource, verbs.clone()))
                })
            })
            .collect();
        let required: Vec<(String, String, Vec<String>)> = REQUIRED_ACCESS
            .iter()
            .map(|(group, resource, verbs)| {
                let verbs = verbs.iter().map(|verb| verb.to_string()).collect();
                (group.to_string(), resource.to_string(), verbs)
            })
            .collect();
        assert_eq!(granted, required);
    }
}
