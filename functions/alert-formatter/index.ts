import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { alertFormatterEnvironment, alertFormatterSettings } from "../../contracts/function-environments";
import { readEnvironment } from "../shared/runtime";
import { createAlertFormatterHandler } from "./handler";

export { slackText } from "./handler";

/** Lambda entry: the environment parsed at cold start, clients from the execution role. */
export const handler = createAlertFormatterHandler(alertFormatterSettings(readEnvironment(alertFormatterEnvironment)), { secrets: new SecretsManagerClient({}) });
