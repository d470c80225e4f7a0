"""The healthcare database: clinics (the tenant), users, patients, doctors, appointments."""
