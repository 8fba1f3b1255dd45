import { App } from "cdktf";
import { loadEnvironment } from "./config";
import { buildStacks } from "./stacks/app";

const app = new App();
buildStacks(app, loadEnvironment());
app.synth();
