// speedscope_check.js SCHEMA FILE: FILE against speedscope's file-format
// schema (the one its npm package ships), by ajv; prints "valid" or the
// first errors and exits 1
"use strict";
const fs = require("fs");
const Ajv = require("ajv");

const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[2])));
if (!validate(JSON.parse(fs.readFileSync(process.argv[3])))) {
	console.log(JSON.stringify(validate.errors.slice(0, 5)));
	process.exit(1);
}
console.log("valid");
