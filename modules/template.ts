import { readFileSync } from "node:fs";

/**
 * Renders a text template with `{{name}}` placeholders for a Terraform string attribute.
 *
 * Every placeholder must have a value and every value must be used, so a typo fails at synth
 * instead of on the instance. The template's own `${` and `%{` (shell syntax) are escaped to
 * `$${` and `%%{`, which Terraform turns back into literal text; values are left as they are, so
 * a value may be a cdktf token that Terraform resolves at apply.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  const placeholder = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
  const used = new Set<string>();
  let rendered = "";
  let last = 0;
  for (const match of template.matchAll(placeholder)) {
    const name = match[1] as string;
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    rendered += escapeTerraformTemplate(template.slice(last, match.index)) + String(value);
    last = (match.index ?? 0) + match[0].length;
  }
  rendered += escapeTerraformTemplate(template.slice(last));
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`template has no placeholder for: ${unused.join(", ")}`);
  return rendered;
}

/** Reads a template file and renders it; see renderTemplate. */
export function renderTemplateFile(path: string, values: Readonly<Record<string, string | number>>): string {
  return renderTemplate(readFileSync(path, "utf8"), values);
}

function escapeTerraformTemplate(text: string): string {
  // Function replacers: in a replacement string "$$" would mean a single "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
