import { mmgrProject } from "../../vitest.shared.js";

export default mmgrProject("testing");
