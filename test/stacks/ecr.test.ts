import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Testing } from "cdktf";
import { ContainerRepository } from "../../modules/container-repository";
import { onlyResource, synthAll } from "../helpers/synth";

describe("ecr stack: controller image repository", () => {
  const ecr = synthAll().ecr;
  const repository = onlyResource(ecr, "aws_ecr_repository");

  it("is named by the convention other stacks' policies scope to", () => {
    expect(repository.name).toBe("smarthome-dev/controller");
  });

  it("CKV_AWS_163: scans images on push", () => {
    expect(repository.image_scanning_configuration).toEqual({ scan_on_push: true });
  });

  it("CKV_AWS_51: tags are immutable", () => {
    expect(repository.image_tag_mutability).toBe("IMMUTABLE");
  });

  it("CKV_AWS_136: encrypted with KMS", () => {
    expect(repository.encryption_configuration).toEqual([{ encryption_type: "KMS" }]);
  });

  it("refuses destroy: prevent_destroy, and never force-deletes images", () => {
    expect(repository.lifecycle).toEqual({ prevent_destroy: true });
    expect(repository.force_delete).toBe(false);
  });

  it("expires untagged images and keeps a bounded number of tagged ones", () => {
    const policy = JSON.parse(onlyResource(ecr, "aws_ecr_lifecycle_policy").policy);
    expect(policy.rules).toEqual([
      expect.objectContaining({ selection: expect.objectContaining({ tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 7 }) }),
      expect.objectContaining({ selection: expect.objectContaining({ tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 }) }),
    ]);
  });

  it("the construct takes its limits as props", () => {
    const synthesized = Testing.synthScope((scope) => new ContainerRepository(scope, "repo", { repositoryName: "acme/app", keepTaggedImages: 5 }));
    expect(synthesized).toHaveResourceWithProperties(EcrRepository, { name: "acme/app", image_tag_mutability: "IMMUTABLE" });
    expect(synthesized).toContain("imageCountMoreThan");
  });
});
