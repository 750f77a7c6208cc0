-- One database per service on the compose PostgreSQL (runs once, on an empty data directory).
CREATE DATABASE gateway OWNER ncp;
CREATE DATABASE registry OWNER ncp;
CREATE DATABASE sis OWNER ncp;
