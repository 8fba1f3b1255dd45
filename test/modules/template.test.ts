import { Testing, TerraformStack, TerraformOutput } from "cdktf";
import { renderTemplate } from "../../modules/template";

describe("renderTemplate", () => {
  it("fills placeholders and escapes the template's own interpolation syntax for Terraform", () => {
    expect(renderTemplate('echo "${HOME}" {{name}} %{if x}', { name: "controller" })).toBe('echo "$${HOME}" controller %%{if x}');
  });

  it("leaves values as they are, so a cdktf token still resolves", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const output = new TerraformOutput(stack, "region", { value: "eu-west-1" });
    const rendered = renderTemplate("REGION={{region}} HOME=${HOME}", { region: output.value as string });
    const synthesized = JSON.parse(Testing.synth(stack));
    expect(synthesized.output.region.value).toBe("eu-west-1");
    expect(rendered).toContain("$${HOME}");
  });

  it("rejects a placeholder without a value", () => {
    expect(() => renderTemplate("{{a}} {{b}}", { a: "1" })).toThrow("template placeholder {{b}} has no value");
  });

  it("rejects a value without a placeholder (a typo in either)", () => {
    expect(() => renderTemplate("{{a}}", { a: "1", typo: "2" })).toThrow("template has no placeholder for: typo");
  });
});
