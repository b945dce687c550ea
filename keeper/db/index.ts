export { openDb, dropSchema, type Db, type Queryable, type QueryResult, type OpenDbOptions } from "./store";
export { migrate, loadMigrations, type Migration } from "./migrate";
