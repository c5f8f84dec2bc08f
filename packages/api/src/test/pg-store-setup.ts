import { installPgTestStore } from "./pg-store.ts";

installPgTestStore();
