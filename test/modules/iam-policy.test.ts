import { isScopedAction, policyDocument, trustPolicy } from "../../modules/iam-policy";

describe("policyDocument", () => {
  it("renders AWS's JSON", () => {
    expect(JSON.parse(policyDocument([{ sid: "Read", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }]))).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "Read", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] }],
    });
  });

  it.each(["*", "s3:*", "*:*", "GetObject"])("refuses the action %s", (action) => {
    expect(() => policyDocument([{ sid: "Bad", actions: [action], resources: ["arn:aws:s3:::b"] }])).toThrow(/"\*" and "service:\*" are never allowed/);
  });

  it("refuses Resource \"*\" unless the statement says why", () => {
    expect(() => policyDocument([{ sid: "Any", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] }])).toThrow(/say why in unscopedBecause/);
    expect(() =>
      policyDocument([{ sid: "Any", actions: ["ecr:GetAuthorizationToken"], resources: ["*"], unscopedBecause: "registry-wide token" }]),
    ).not.toThrow();
  });

  it("refuses an empty statement and a non-alphanumeric sid", () => {
    expect(() => policyDocument([{ sid: "Empty", actions: [], resources: ["x"] }])).toThrow(/at least one action/);
    expect(() => policyDocument([{ sid: "bad-sid", actions: ["s3:GetObject"], resources: ["x"] }])).toThrow(/alphanumeric/);
  });

  it("isScopedAction accepts verb wildcards only", () => {
    expect(isScopedAction("ec2:Describe*")).toBe(true);
    expect(isScopedAction("ec2:*")).toBe(false);
  });

  it("trustPolicy renders the principal and conditions", () => {
    expect(JSON.parse(trustPolicy({ principal: { Service: "ec2.amazonaws.com" } })).Statement[0]).toEqual({
      Effect: "Allow",
      Principal: { Service: "ec2.amazonaws.com" },
      Action: "sts:AssumeRole",
    });
  });
});
