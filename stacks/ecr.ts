import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { ContainerRepository } from "../modules/container-repository";
import { ProjectStack } from "./project-stack";

/** The controller image repository. `cdktf destroy ecr` refuses by design (prevent_destroy). */
export class EcrStack extends ProjectStack<"ecr"> {
  constructor(scope: Construct, config: EnvironmentConfig) {
    super(scope, "ecr", { config });
    const controllerImages = new ContainerRepository(this, "controller-repository", {
      repositoryName: this.names.controllerRepository,
    });
    this.exportOutputs({
      controller_repository_name: controllerImages.repositoryName,
      controller_repository_url: controllerImages.repositoryUrl,
      controller_repository_arn: controllerImages.repositoryArn,
    });
  }
}
