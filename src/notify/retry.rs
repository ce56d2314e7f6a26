//! Retries with exponential backoff, shared by every notifier: a transient failure is tried
//! again after 1 s, 2 s, 4 s, … (capped), or after the receiver's own `Retry-After`; a
//! permanent one ends the delivery at once.

use std::time::Duration;

use super::Attempt;

/// How often and how patiently a notifier tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait after the first failed attempt; doubled after each further one.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts, `Retry-After` included.
    pub max_backoff: Duration,
    /// The time limit of one attempt.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// The wait after failed attempt number `attempt` (from 1), unless the receiver asked for another.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// Makes attempts until one is accepted, one fails permanently, or the attempts run out;
/// `sleep` waits between them. Returns the number of attempts made and the last one.
pub fn run(retry: &Retry, mut attempt: impl FnMut() -> Attempt, mut sleep: impl FnMut(Duration)) -> (u32, Attempt) {
    let attempts = retry.attempts.max(1);
    let mut made = 1;
    let mut last = attempt();
    while made < attempts {
        let wait = match &last {
            Attempt::Transient { retry_after: Some(after), .. } => (*after).min(retry.max_backoff),
            Attempt::Transient { retry_after: None, .. } => retry.backoff(made),
            Attempt::Accepted { .. } | Attempt::Permanent { .. } => break,
        };
        sleep(wait);
        made += 1;
        last = attempt();
    }
    (made, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient(retry_after: Option<Duration>) -> Attempt {
        Attempt::Transient { error: "HTTP 503".to_string(), http_status: Some(503), retry_after }
    }

    /// Runs `answers` in turn (the last one repeated), recording the waits.
    fn simulate(retry: &Retry, answers: &[Attempt]) -> (u32, Attempt, Vec<Duration>) {
        let mut waits = Vec::new();
        let mut next = 0;
        let (made, last) = run(
            retry,
            || {
                let answer = answers[next.min(answers.len() - 1)].clone();
                next += 1;
                answer
            },
            |wait| waits.push(wait),
        );
        (made, last, waits)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = Retry { attempts: 8, ..Retry::default() };
        let waits: Vec<u64> = (1..=7).map(|attempt| retry.backoff(attempt).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(retry.backoff(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn transient_failures_are_retried_until_accepted() {
        let retry = Retry::default();
        let answers = [transient(None), transient(None), Attempt::Accepted { http_status: Some(200) }];
        let (made, last, waits) = simulate(&retry, &answers);
        assert_eq!(made, 3);
        assert_eq!(last, Attempt::Accepted { http_status: Some(200) });
        assert_eq!(waits, [Duration::from_secs(1), Duration::from_secs(2)]);
    }

    #[test]
    fn attempts_run_out_with_the_last_error() {
        let retry = Retry { attempts: 4, ..Retry::default() };
        let (made, last, waits) = simulate(&retry, &[transient(None)]);
        assert_eq!((made, waits.len()), (4, 3));
        assert_eq!(last, transient(None));
        let (made, _, waits) = simulate(&Retry { attempts: 0, ..retry }, &[transient(None)]);
        assert_eq!((made, waits.len()), (1, 0), "at least one attempt is made");
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        let permanent = Attempt::Permanent { error: "HTTP 400".to_string(), http_status: Some(400) };
        let (made, last, waits) =
            simulate(&Retry::default(), &[permanent.clone(), Attempt::Accepted { http_status: None }]);
        assert_eq!((made, last, waits), (1, permanent, vec![]));
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        let retry = Retry { attempts: 3, max_backoff: Duration::from_secs(10), ..Retry::default() };
        let answers = [transient(Some(Duration::from_secs(3))), transient(Some(Duration::from_secs(120)))];
        let (_, _, waits) = simulate(&retry, &answers);
        assert_eq!(waits, [Duration::from_secs(3), Duration::from_secs(10)]);
    }
}
