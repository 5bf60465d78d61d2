//! Sandboxed templating (minijinja) for playbook strings and conditions.
//!
//! Templates see only the run context (trigger object, `vars`, `steps`,
//! `inputs`, `run`); there is no file loader, no way to reach the
//! environment, and each evaluation runs on a fuel budget so a runaway loop
//! stops with an error. Undefined attributes chain (`alert.details.x.y` is
//! empty when `details` lacks `x`) instead of failing.

use minijinja::{Environment, UndefinedBehavior};

use crate::{Error, Result};

/// Fuel per evaluation (roughly: instructions).
const FUEL: u64 = 200_000;
/// Longest rendered string.
const MAX_OUTPUT: usize = 1 << 20;

/// The template environment.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

/// Strips an optional `{{ … }}` around an expression.
fn bare(expr: &str) -> &str {
    let t = expr.trim();
    match t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
        Some(inner) if !inner.contains("{{") => inner.trim(),
        _ => t,
    }
}

/// `Some(expr)` when the string is exactly one `{{ expr }}`.
fn whole_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}") && !t.contains("{%")).then_some(inner.trim())
}

impl Templates {
    /// A sandboxed environment with the built-in filters.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_recursion_limit(50);
        Self { env }
    }

    /// Compiles a template, reporting syntax errors.
    pub fn check_template(&self, src: &str) -> Result<()> {
        self.env
            .template_from_str(src)
            .map(|_| ())
            .map_err(|e| Error::Template(describe(&e)))
    }

    /// Compiles an expression (with or without `{{ }}`).
    pub fn check_expr(&self, src: &str) -> Result<()> {
        self.env
            .compile_expression(bare(src))
            .map(|_| ())
            .map_err(|e| Error::Template(describe(&e)))
    }

    /// Renders a template string.
    pub fn render(&self, src: &str, ctx: &serde_json::Value) -> Result<String> {
        if !src.contains("{{") && !src.contains("{%") {
            return Ok(src.to_string());
        }
        let t = self
            .env
            .template_from_str(src)
            .map_err(|e| Error::Template(describe(&e)))?;
        let out = t
            .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| Error::Template(describe(&e)))?;
        if out.len() > MAX_OUTPUT {
            return Err(Error::Template(format!(
                "rendered text is {} bytes, more than the {MAX_OUTPUT}-byte limit",
                out.len()
            )));
        }
        Ok(out)
    }

    /// Evaluates an expression to a JSON value.
    pub fn eval(&self, expr: &str, ctx: &serde_json::Value) -> Result<serde_json::Value> {
        let e = self
            .env
            .compile_expression(bare(expr))
            .map_err(|e| Error::Template(describe(&e)))?;
        let v = e
            .eval(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| Error::Template(describe(&e)))?;
        if v.is_undefined() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::to_value(&v).map_err(|e| Error::Template(format!("result is not JSON: {e}")))
    }

    /// Evaluates a condition with Jinja truthiness (empty, zero, none and
    /// undefined are false).
    pub fn truthy(&self, expr: &str, ctx: &serde_json::Value) -> Result<bool> {
        let e = self
            .env
            .compile_expression(bare(expr))
            .map_err(|e| Error::Template(describe(&e)))?;
        e.eval(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map(|v| v.is_true())
            .map_err(|e| Error::Template(describe(&e)))
    }

    /// Renders every string leaf of a JSON value. A leaf that is exactly
    /// `{{ expr }}` keeps the expression's type (number, list, object).
    pub fn render_json(
        &self,
        v: &serde_json::Value,
        ctx: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        use serde_json::Value as J;
        Ok(match v {
            J::String(s) => match whole_expression(s) {
                Some(expr) => self.eval(expr, ctx)?,
                None => J::String(self.render(s, ctx)?),
            },
            J::Array(a) => J::Array(
                a.iter()
                    .map(|x| self.render_json(x, ctx))
                    .collect::<Result<_>>()?,
            ),
            J::Object(m) => J::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), self.render_json(x, ctx)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Checks every string leaf of a JSON value as a template.
    pub fn check_json(&self, v: &serde_json::Value) -> Result<()> {
        use serde_json::Value as J;
        match v {
            J::String(s) => match whole_expression(s) {
                Some(expr) => self.check_expr(expr),
                None => self.check_template(s),
            },
            J::Array(a) => a.iter().try_for_each(|x| self.check_json(x)),
            J::Object(m) => m.values().try_for_each(|x| self.check_json(x)),
            _ => Ok(()),
        }
    }
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    if let Some(d) = e.detail()
        && !s.contains(d)
    {
        s.push_str(": ");
        s.push_str(d);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> serde_json::Value {
        json!({
            "alert": {"severity": "high", "entities": {"source_ip": "203.0.113.9"}, "details": {"count": 12}, "tags": ["attack.t1110"]},
            "vars": {"ips": ["1.2.3.4", "5.6.7.8"]}
        })
    }

    #[test]
    fn renders_strings_and_keeps_types() {
        let t = Templates::new();
        assert_eq!(
            t.render("ip {{ alert.entities.source_ip }}", &ctx())
                .unwrap(),
            "ip 203.0.113.9"
        );
        let body = json!({"ip": "{{ alert.entities.source_ip }}", "count": "{{ alert.details.count }}",
                          "ips": "{{ vars.ips }}", "text": "n={{ alert.details.count }}", "n": 5});
        assert_eq!(
            t.render_json(&body, &ctx()).unwrap(),
            json!({"ip": "203.0.113.9", "count": 12, "ips": ["1.2.3.4", "5.6.7.8"], "text": "n=12", "n": 5})
        );
    }

    #[test]
    fn conditions() {
        let t = Templates::new();
        assert!(
            t.truthy("alert.severity in ['high', 'critical']", &ctx())
                .unwrap()
        );
        assert!(
            t.truthy("{{ 'attack.t1110' in alert.tags }}", &ctx())
                .unwrap()
        );
        assert!(!t.truthy("alert.missing.deeper", &ctx()).unwrap());
        assert!(!t.truthy("alert.details.count > 100", &ctx()).unwrap());
    }

    #[test]
    fn syntax_errors_are_reported() {
        let t = Templates::new();
        assert!(t.check_template("{{ unclosed").is_err());
        assert!(t.check_expr("a ==").is_err());
        assert!(t.check_json(&json!({"a": ["{% if %}"]})).is_err());
    }

    #[test]
    fn sandbox_has_no_files_and_runaway_loops_stop() {
        let t = Templates::new();
        assert!(t.render("{% include '/etc/passwd' %}", &ctx()).is_err());
        let e = t
            .render(
                "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
                &ctx(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("fuel"), "{e}");
    }
}
