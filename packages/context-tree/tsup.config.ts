import { mmgrBuild } from "../../tsup.shared.js";

export default mmgrBuild;
